"""The Seer deletion task: what it sends, in which batches, and its errors."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from rangeqs.examples.grouphash.models import GroupHash
from rangeqs.examples.grouphash.tasks import (
    RANGEQS_WALK,
    call_delete_seer_grouping_records_by_hash,
    delete_seer_grouping_records_by_hash,
    schedule_seer_deletions,
)
from tests.grouphash.factories import GroupFactory, GroupHashFactory, ProjectFactory

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_django.fixtures import Settings

    from rangeqs.examples.grouphash.models import Group
    from tests.grouphash.seer_clients import RecordingSeerClient

try:
    from django.tasks.signals import task_enqueued
except ImportError:  # Django < 6.0: the django-tasks backport
    from django_tasks.signals import task_enqueued

pytestmark = pytest.mark.django_db


def hashes_of(*groups: Group) -> set[str]:
    return set(
        GroupHash.objects.filter(group__in=groups).values_list("hash", flat=True)
    )


@pytest.fixture
def enqueued_arguments() -> Iterator[list[tuple[Any, ...]]]:
    arguments: list[tuple[Any, ...]] = []

    def record(sender: object, task_result: Any, **kwargs: object) -> None:
        arguments.append(tuple(task_result.args))

    task_enqueued.connect(record)
    yield arguments
    task_enqueued.disconnect(record)


def test_sends_every_hash_of_the_groups_once_and_no_other(
    seer: RecordingSeerClient,
) -> None:
    project = ProjectFactory.create()
    listed = GroupFactory.create_batch(3, project=project)
    unlisted = GroupFactory.create(project=project)
    for group in [*listed, unlisted]:
        GroupHashFactory.create_batch(4, group=group)
    GroupHashFactory.create_batch(4)  # another project

    scheduled = call_delete_seer_grouping_records_by_hash(
        [group.pk for group in listed], batch_size=5
    )

    assert scheduled == 12
    assert sorted(seer.sent) == sorted(hashes_of(*listed))
    assert {project_id for project_id, _hashes in seer.calls} == {project.pk}
    assert [len(hashes) for _project_id, hashes in seer.calls] == [5, 5, 2]


def test_enqueues_json_serialisable_arguments(
    seer: RecordingSeerClient, enqueued_arguments: list[tuple[Any, ...]]
) -> None:
    group = GroupFactory.create()
    GroupHashFactory.create_batch(3, group=group)

    call_delete_seer_grouping_records_by_hash([group.pk], batch_size=2)

    assert len(enqueued_arguments) == 2
    for arguments in enqueued_arguments:
        assert json.loads(json.dumps(arguments)) == list(arguments)


def test_batch_size_defaults_to_the_setting(
    seer: RecordingSeerClient, settings: Settings
) -> None:
    settings.RANGEQS_GROUPHASH_DELETE_BATCH_SIZE = 2
    group = GroupFactory.create()
    GroupHashFactory.create_batch(5, group=group)

    call_delete_seer_grouping_records_by_hash([group.pk])

    assert [len(hashes) for _project_id, hashes in seer.calls] == [2, 2, 1]


def test_batch_size_defaults_to_100_without_the_setting(
    seer: RecordingSeerClient,
) -> None:
    group = GroupFactory.create()
    GroupHashFactory.create_batch(101, group=group)

    call_delete_seer_grouping_records_by_hash([group.pk])

    assert [len(hashes) for _project_id, hashes in seer.calls] == [100, 1]


@pytest.mark.parametrize("batch_size", [0, -1])
def test_refuses_a_batch_size_below_one(batch_size: int) -> None:
    with pytest.raises(ValueError, match="is not a positive integer") as excinfo:
        call_delete_seer_grouping_records_by_hash([1], batch_size=batch_size)
    assert str(excinfo.value) == (
        f"batch_size={batch_size} is not a positive integer: pass one, or set "
        f"RANGEQS_GROUPHASH_DELETE_BATCH_SIZE to one."
    )


def test_refuses_groups_of_several_projects(seer: RecordingSeerClient) -> None:
    first, second = GroupFactory.create_batch(2)
    GroupHashFactory.create(group=first)

    with pytest.raises(ValueError, match="several projects") as excinfo:
        call_delete_seer_grouping_records_by_hash([first.pk, second.pk])

    assert str(excinfo.value) == (
        f"The groups belong to several projects ({first.project_id}, "
        f"{second.project_id}): call call_delete_seer_grouping_records_by_hash "
        f"once per project."
    )
    assert seer.calls == []


def test_skips_ids_of_groups_that_no_longer_exist(seer: RecordingSeerClient) -> None:
    group = GroupFactory.create()
    GroupHashFactory.create_batch(2, group=group)
    gone = GroupFactory.create(project=group.project)
    gone_id = gone.pk
    gone.delete()

    run = schedule_seer_deletions([group.pk, gone_id])

    assert run.hashes == 2
    assert run.missing_groups == 1
    assert sorted(seer.sent) == sorted(hashes_of(group))


def test_schedules_nothing_when_no_group_exists(
    seer: RecordingSeerClient, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        scheduled = call_delete_seer_grouping_records_by_hash([123456789])

    assert scheduled == 0
    assert seer.calls == []


def test_walks_on_the_bounded_partition_plan(seer: RecordingSeerClient) -> None:
    group = GroupFactory.create()
    GroupHashFactory.create_batch(3, group=group)

    run = schedule_seer_deletions([group.pk], batch_size=2)

    assert run.plan == RANGEQS_WALK.plan == "partition"
    # The project lookup, then one page per batch plus the one that finds the end
    # at most.
    assert 1 + run.batches <= run.queries <= 2 + run.batches


def test_logs_one_structured_line_per_run(
    seer: RecordingSeerClient, caplog: pytest.LogCaptureFixture
) -> None:
    group = GroupFactory.create()
    GroupHashFactory.create_batch(3, group=group)

    with caplog.at_level(logging.INFO, logger="rangeqs.examples.grouphash"):
        run = schedule_seer_deletions([group.pk, group.pk], batch_size=2)

    [record] = [r for r in caplog.records if hasattr(r, "grouphash_deletion")]
    fields = record.grouphash_deletion
    assert {
        key: fields[key]
        for key in ("groups", "missing_groups", "project_id", "hashes", "batches")
    } == {
        "groups": 1,
        "missing_groups": 0,
        "project_id": group.project_id,
        "hashes": 3,
        "batches": 2,
    }
    assert fields["queries"] == run.queries
    assert fields["plan"] == "partition"
    assert fields["seconds"] >= 0
    assert record.getMessage().startswith(
        "seer grouping records deletion scheduled: groups=1 missing_groups=0 "
    )


def test_deletion_task_resumes_at_last_deleted_index(
    seer: RecordingSeerClient,
) -> None:
    delete_seer_grouping_records_by_hash.enqueue(7, ["a", "b", "c"], 2)

    assert seer.calls == [(7, ["c"])]


@pytest.mark.parametrize("index", [-1, 4])
def test_deletion_task_refuses_an_index_outside_the_hashes(index: int) -> None:
    with pytest.raises(ValueError, match="outside") as excinfo:
        delete_seer_grouping_records_by_hash.call(7, ["a", "b", "c"], index)
    assert str(excinfo.value) == (
        f"last_deleted_index={index} is outside the 3 hashes: pass an index from "
        f"0 to 3."
    )


def test_deletion_task_logs_by_default(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rangeqs.examples.grouphash"):
        delete_seer_grouping_records_by_hash.call(7, ["a", "b"])

    assert caplog.messages == ["seer: delete 2 grouping records of project 7"]


def test_deletion_task_names_a_seer_client_that_cannot_be_imported(
    settings: Settings,
) -> None:
    settings.RANGEQS_GROUPHASH_SEER_CLIENT = "nowhere.client"
    with pytest.raises(ImproperlyConfigured) as excinfo:
        delete_seer_grouping_records_by_hash.call(7, ["a"])
    assert str(excinfo.value) == (
        "RANGEQS_GROUPHASH_SEER_CLIENT='nowhere.client' cannot be imported: set it "
        "to the dotted path of a callable(project_id, hashes)."
    )
