"""The jobs examples of the docs run."""

from __future__ import annotations

import pytest
from docs.examples import jobs_backfill

from rangeqs.examples.grouphash.models import GroupHash
from rangeqs.jobs.models import Status
from tests.grouphash.factories import GroupFactory, GroupHashFactory


@pytest.mark.django_db
def test_the_backfill_example_sets_every_row_of_the_project_once() -> None:
    group = GroupFactory.create()
    GroupHashFactory.create_batch(40, group=group, state=None)
    GroupHashFactory.create_batch(5, group=GroupFactory.create(), state=None)

    job = jobs_backfill.backfill(group.project_id, workers=3)

    assert job.status == Status.DONE
    assert job.ranges.count() == 3
    assert set(
        GroupHash.objects.filter(project_id=group.project_id).values_list(
            "state", flat=True
        )
    ) == {1}
    assert GroupHash.objects.filter(state__isnull=True).count() == 5


def test_the_celery_app_example_registers_the_range_task() -> None:
    pytest.importorskip("celery")
    from docs.examples import jobs_celery_app

    jobs_celery_app.app.loader.import_default_modules()
    assert "rangeqs.jobs.run_range" in jobs_celery_app.app.tasks
    assert jobs_celery_app.app.conf.worker_prefetch_multiplier == 1
