"""Every hash of the listed groups is sent exactly once, never another one,
also when the table changes between batches and for very long group lists."""

from __future__ import annotations

import itertools

import pytest
from django.test.utils import override_settings
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rangeqs.examples.grouphash.models import Group, GroupHash, Project
from rangeqs.examples.grouphash.tasks import call_delete_seer_grouping_records_by_hash
from tests.grouphash.factories import GroupFactory, GroupHashFactory, ProjectFactory
from tests.grouphash.seer_clients import (
    RECORDING_SEER_CLIENT,
    RecordingSeerClient,
    recording_seer_client,
)

_new_hashes = (f"added-{n}" for n in itertools.count())


class TableChanges:
    """Applies one list of changes after each Seer call, as another process
    deleting and adding hashes between two pages of the walk would."""

    def __init__(
        self,
        changes: list[list[tuple[str, int]]],
        listed: list[Group],
        unlisted: Group,
        elsewhere: Group,
    ) -> None:
        self.pending = list(changes)
        self.listed = listed
        self.unlisted = unlisted
        self.elsewhere = elsewhere
        self.deleted: set[str] = set()
        self.added_to_listed: set[str] = set()

    def __call__(self) -> None:
        if not self.pending:
            return
        for kind, number in self.pending.pop(0):
            if kind == "delete":
                rows = list(
                    GroupHash.objects.filter(group__in=self.listed).order_by("id")
                )
                if rows:
                    row = rows[number % len(rows)]
                    self.deleted.add(row.hash)
                    row.delete()
            elif kind == "add_listed":
                row = GroupHashFactory.create(
                    group=self.listed[number % len(self.listed)], hash=next(_new_hashes)
                )
                self.added_to_listed.add(row.hash)
            else:
                group = self.unlisted if kind == "add_unlisted" else self.elsewhere
                GroupHashFactory.create(group=group, hash=next(_new_hashes))


def assert_sent_exactly_once(
    seer: RecordingSeerClient,
    *,
    project: Project,
    before: set[str],
    changes: TableChanges,
    batch_size: int,
) -> None:
    sent = seer.sent
    assert len(sent) == len(set(sent)), "a hash was sent twice"
    assert before - changes.deleted <= set(sent), "a hash present throughout was missed"
    assert set(sent) <= before | changes.added_to_listed, "a foreign hash was sent"
    assert all(project_id == project.pk for project_id, _hashes in seer.calls)
    assert all(1 <= len(hashes) <= batch_size for _project_id, hashes in seer.calls)


change = st.tuples(
    st.sampled_from(["delete", "add_listed", "add_unlisted", "add_elsewhere"]),
    st.integers(0, 50),
)


@override_settings(RANGEQS_GROUPHASH_SEER_CLIENT=RECORDING_SEER_CLIENT)
class ExactlyOnceTests(TestCase):
    @given(
        listed_groups=st.integers(1, 4),
        # Each number creates one row in that group (listed first, then one
        # unlisted group of the project, then one of another project), so the
        # groups' ids interleave.
        rows=st.lists(st.integers(0, 5), max_size=30),
        batch_size=st.integers(1, 6),
        changes=st.lists(st.lists(change, max_size=3), max_size=8),
    )
    def test_sends_each_hash_once_while_the_table_changes(
        self,
        listed_groups: int,
        rows: list[int],
        batch_size: int,
        changes: list[list[tuple[str, int]]],
    ) -> None:
        project = ProjectFactory.create()
        listed = GroupFactory.create_batch(listed_groups, project=project)
        unlisted = GroupFactory.create(project=project)
        elsewhere = GroupFactory.create()
        groups = [*listed, unlisted, elsewhere]
        for number in rows:
            GroupHashFactory.create(group=groups[min(number, len(groups) - 1)])
        before = set(
            GroupHash.objects.filter(group__in=listed).values_list("hash", flat=True)
        )
        table_changes = TableChanges(changes, listed, unlisted, elsewhere)
        recording_seer_client.reset()
        recording_seer_client.between_calls = table_changes

        call_delete_seer_grouping_records_by_hash(
            [group.pk for group in listed], batch_size=batch_size
        )

        assert_sent_exactly_once(
            recording_seer_client,
            project=project,
            before=before,
            changes=table_changes,
            batch_size=batch_size,
        )


@pytest.mark.django_db
# Few pages for the long list: each page of it carries 100,000 values.
@pytest.mark.parametrize(("group_count", "batch_size"), [(10, 7), (100_000, 40)])
def test_sends_each_hash_once_for_long_group_lists(
    seer: RecordingSeerClient, group_count: int, batch_size: int
) -> None:
    project = ProjectFactory.create()
    listed = Group.objects.bulk_create(
        [Group(project=project) for _ in range(group_count)], batch_size=10_000
    )
    unlisted = GroupFactory.create(project=project)
    elsewhere = GroupFactory.create()
    # Hashes in groups spread over the whole list, with foreign rows between.
    with_hashes = listed[:: max(1, group_count // 50)]
    for group in with_hashes:
        GroupHashFactory.create_batch(2, group=group)
        GroupHashFactory.create(group=unlisted)
        GroupHashFactory.create(group=elsewhere)
    before = set(
        GroupHash.objects.filter(group__in=with_hashes).values_list("hash", flat=True)
    )
    changes = TableChanges(
        [[("delete", 3), ("add_listed", 7), ("add_elsewhere", 0)]] * 5,
        with_hashes,
        unlisted,
        elsewhere,
    )
    seer.between_calls = changes

    call_delete_seer_grouping_records_by_hash(
        [group.pk for group in listed], batch_size=batch_size
    )

    assert_sent_exactly_once(
        seer, project=project, before=before, changes=changes, batch_size=batch_size
    )
    assert len(seer.calls) >= 3, "the table must change between batches"
