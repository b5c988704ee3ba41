"""The Django Tasks runner: one task per range, re-enqueued until the range ends.

``django.tasks`` on Django 6, the ``django-tasks`` backport before it; any
backend that runs tasks in a worker (``django-tasks-db``'s
``manage.py db_worker``, say). Like the Celery runner, a task works for the
job's ``budget_seconds`` and enqueues itself for the rest.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from rangeqs.jobs._engine import SETTLED, run_range
from rangeqs.jobs.models import Job, JobRange

try:
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Django < 6.0: the django-tasks backport
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

__all__ = ["enqueue", "run_range_task"]


@task()  # type: ignore[untyped-decorator,unused-ignore]
def run_range_task(range_id: int, using: str = "default") -> str:
    job = JobRange.objects.using(using).select_related("job").get(pk=range_id).job
    outcome = run_range(range_id, budget_seconds=job.budget_seconds, using=using)
    if outcome.more:
        _task_for(job, wait_seconds=outcome.wait_seconds).enqueue(range_id, using)
    return outcome.status


def _task_for(job: Job, *, wait_seconds: float = 0.0) -> Any:
    options: dict[str, Any] = {"backend": job.task_backend}
    if job.queue:
        options["queue_name"] = job.queue
    task = run_range_task.using(**options)
    if wait_seconds and task.get_backend().supports_defer:
        # The throttle asked to wait longer than the budget: run after it.
        task = task.using(run_after=timezone.now() + timedelta(seconds=wait_seconds))
    return task


def enqueue(job: Job) -> None:
    """One task for each range of ``job`` that is not finished."""
    using = job._state.db or "default"
    pending = job.ranges.using(using).exclude(status__in=SETTLED).order_by("index")
    for range_id in pending.values_list("pk", flat=True):
        _task_for(job).enqueue(range_id, using)
