"""The Celery version of the task in the docs runs where Celery is installed.

Celery is not a dependency of rangeqs: without it these tests skip, and the
example is still checked to be valid Python that uses the same walk.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.grouphash.factories import GroupFactory, GroupHashFactory

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.grouphash.seer_clients import RecordingSeerClient

EXAMPLE = Path(__file__).resolve().parents[2] / "docs/examples/grouphash_celery.py"


def test_celery_example_walks_on_the_partition_plan_with_the_tenant_filter() -> None:
    source = EXAMPLE.read_text()
    ast.parse(source)  # valid Python even where Celery cannot be imported
    assert 'order_by=("group_id", "id"), plan="partition"' in source
    assert "project_id=project_id, group_id__in=group_ids" in source


@pytest.fixture
def celery_example() -> Iterator[Any]:
    celery = pytest.importorskip("celery")
    previous_app = celery.current_app._get_current_object()
    app = celery.Celery("rangeqs-docs", set_as_current=True)
    # Run each task in the caller, as Django's immediate backend does.
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield importlib.import_module("docs.examples.grouphash_celery")
    previous_app.set_current()


@pytest.mark.django_db
def test_celery_example_sends_each_hash_once_in_batches(
    celery_example: Any, seer: RecordingSeerClient
) -> None:
    project = GroupFactory.create().project
    listed = GroupFactory.create_batch(3, project=project)
    for group in listed:
        GroupHashFactory.create_batch(3, group=group)
    GroupHashFactory.create_batch(2, group=GroupFactory.create(project=project))

    scheduled = celery_example.call_delete_seer_grouping_records_by_hash(
        [group.pk for group in listed], batch_size=4
    )

    assert scheduled == 9
    assert len(seer.sent) == len(set(seer.sent)) == 9
    assert [len(hashes) for _project_id, hashes in seer.calls] == [4, 4, 1]


@pytest.mark.django_db
def test_celery_example_refuses_groups_of_several_projects(
    celery_example: Any,
) -> None:
    first, second = GroupFactory.create_batch(2)
    with pytest.raises(ValueError, match="several projects"):
        celery_example.call_delete_seer_grouping_records_by_hash([first.pk, second.pk])
