"""The Celery runner: one task per range, re-enqueued until the range ends.

A task runs batches for the job's ``budget_seconds``, then enqueues itself
for the rest and returns, as Sentry's deletion tasks do: no task runs for
hours, and a deploy or a killed worker loses at most the batch in flight
(rolled back with its checkpoint). Register it by importing this module in
the Celery app (``include=["rangeqs.jobs.celery_tasks"]`` or
``app.autodiscover_tasks`` over a module that imports it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from celery import shared_task

from rangeqs.jobs._engine import SETTLED, run_range
from rangeqs.jobs.models import Job, JobRange

if TYPE_CHECKING:
    from celery import Task

__all__ = ["enqueue", "run_range_task"]


@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="rangeqs.jobs.run_range",
    # A worker that dies mid-task leaves the message to be delivered again.
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def run_range_task(self: Task[Any, Any], range_id: int, using: str = "default") -> str:
    job = JobRange.objects.using(using).select_related("job").get(pk=range_id).job
    outcome = run_range(range_id, budget_seconds=job.budget_seconds, using=using)
    if outcome.more:
        self.apply_async(
            (range_id, using),
            queue=job.queue or None,
            countdown=outcome.wait_seconds or None,
        )
    return outcome.status


def enqueue(job: Job) -> None:
    """One task for each range of ``job`` that is not finished."""
    using = job._state.db or "default"
    pending = job.ranges.using(using).exclude(status__in=SETTLED).order_by("index")
    for range_id in pending.values_list("pk", flat=True):
        run_range_task.apply_async((range_id, using), queue=job.queue or None)
