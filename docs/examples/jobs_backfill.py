"""How-to: a backfill as a rangeqs job, split into ranges and checkpointed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rangeqs.examples.grouphash.models import GroupHash
from rangeqs.jobs import create_job, start

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from rangeqs.jobs import Batch
    from rangeqs.jobs.models import Job


def hashes_without_state(*, project_id: int) -> QuerySet[GroupHash, int]:
    """What the job walks. The job stores this function's dotted path and its
    JSON arguments; every worker calls it to get the same queryset."""
    return GroupHash.objects.filter(
        project_id=project_id, state__isnull=True
    ).values_list("pk", flat=True)


def mark_active(batch: Batch) -> None:
    """The handler: it only writes to the job's database, so the batch and the
    job's checkpoint commit together: each row is handled exactly once."""
    GroupHash.objects.filter(pk__in=batch.rows).update(state=batch.options["state"])


def backfill(project_id: int, *, workers: int, runner: str = "inline") -> Job:
    job = create_job(
        name=f"state backfill of project {project_id}",
        queryset="docs.examples.jobs_backfill.hashes_without_state",
        queryset_kwargs={"project_id": project_id},
        handler="docs.examples.jobs_backfill.mark_active",
        handler_kwargs={"state": 1},
        order_by="id",
        parts=workers,  # one range per worker
        step=500,
        target_seconds=0.5,  # tune each range's step toward 0.5 s a batch
        min_step=50,
        max_step=5000,
        runner=runner,
    )
    return start(job)
