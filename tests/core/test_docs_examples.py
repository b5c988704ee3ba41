"""Run the code examples of the wrapper's docs (docs/examples/)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from docs.examples import (
    delete_while_iterating,
    first_iteration,
    migrate_from_sentry,
    nullable_key,
    resume_from_cursor,
)

from rangeqs.examples.grouphash.models import Group, GroupHash, Project
from tests.plans.helpers import row_statements

pytestmark = pytest.mark.django_db


@pytest.fixture
def project() -> Project:
    project = Project.objects.create(slug="p", name="P")
    other = Project.objects.create(slug="o", name="O")
    groups = [Group.objects.create(project=project) for _ in range(3)]
    for i in range(12):
        GroupHash.objects.create(
            project=project,
            hash=f"h{i:02}",
            group=groups[i % 3] if i % 4 else None,
            state=i % 2 if i % 5 else None,
        )
    GroupHash.objects.create(project=other, hash="other")
    return project


def test_first_iteration(project: Project) -> None:
    hashes = GroupHash.objects.filter(project=project)
    expected_counts: dict[int | None, int] = {}
    for grouphash in hashes:
        expected_counts[grouphash.state] = expected_counts.get(grouphash.state, 0) + 1
    assert first_iteration.count_hashes_by_state(project.pk) == expected_counts
    newest = list(hashes.order_by("-id").values_list("hash", flat=True)[:5])
    assert first_iteration.newest_hashes(project.pk, 5) == newest
    by_date = hashes.order_by("date_added", "id").values_list("hash", flat=True)
    assert first_iteration.hashes_by_date_added(project.pk) == list(by_date)


def test_resume_from_cursor(project: Project) -> None:
    assert resume_from_cursor.process_all(project.pk, budget=5) == 3
    assert set(
        GroupHash.objects.filter(project=project).values_list("state", flat=True)
    ) == {1}


def test_nullable_key(project: Project, vendor: str) -> None:
    pairs = nullable_key.hashes_by_group(project.pk)
    assert len(pairs) == 12
    nulls = [pair for pair in pairs if pair[0] is None]
    assert len(nulls) == 3
    assert (pairs[-3:] if vendor == "postgresql" else pairs[:3]) == nulls
    group_ids = list(Group.objects.values_list("id", flat=True)[:2])
    with CaptureQueriesContext(connection) as captured:
        hashes = nullable_key.hashes_of_groups(group_ids)
    assert len(hashes) == GroupHash.objects.filter(group_id__in=group_ids).count()
    assert len(row_statements(captured.captured_queries)) == 1


def test_delete_while_iterating(project: Project) -> None:
    assert delete_while_iterating.unlink_groups(project.pk) == 9
    assert delete_while_iterating.delete_in_batches(project.pk) == 12
    other = Project.objects.get(slug="o")
    assert delete_while_iterating.delete_one_by_one(other.pk) == 1
    assert not GroupHash.objects.exists()


def test_migrate_from_sentry(project: Project) -> None:
    ids = migrate_from_sentry.ids_and_hashes_by_state(project.pk)
    hashes = GroupHash.objects.filter(project=project)
    assert sorted(ids) == sorted(hashes.values_list("id", flat=True))
    start = sorted(ids)[4]
    assert migrate_from_sentry.ids_from(project.pk, start) == sorted(ids)[4:]
    by_date = migrate_from_sentry.ids_by_date_added(project.pk)
    assert sorted(by_date) == sorted(ids)
    assert len(by_date) == len(ids)
    assert migrate_from_sentry.delete_hashes_of_project(project.pk, step=5) == len(ids)
    assert not hashes.exists()
    assert GroupHash.objects.filter(project__slug="o").count() == 1
