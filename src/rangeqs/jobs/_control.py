"""Create a job, start it on its runner, and steer it: pause, resume, retry, cancel."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.module_loading import import_string

from rangeqs.jobs._engine import SETTLED, load_queryset, run_range
from rangeqs.jobs._pacing import bounded
from rangeqs.jobs._split import split
from rangeqs.jobs.models import Effects, Job, JobRange, Runner, Status

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def create_job(
    *,
    queryset: str,
    handler: str,
    queryset_kwargs: dict[str, Any] | None = None,
    handler_kwargs: dict[str, Any] | None = None,
    order_by: str | Sequence[str] = "pk",
    override_unique_safety_check: bool = False,
    plan: str = "auto",
    parts: int = 1,
    step: int = 1000,
    min_step: int = 1,
    max_step: int = 10_000,
    target_seconds: float | None = None,
    throttle: str = "",
    throttle_kwargs: dict[str, Any] | None = None,
    effects: str = Effects.DATABASE,
    runner: str = Runner.INLINE,
    queue: str = "",
    task_backend: str = "default",
    budget_seconds: float = 60.0,
    max_attempts: int = 3,
    name: str = "",
    using: str = "default",
) -> Job:
    """Record a job over the rows ``queryset(**queryset_kwargs)`` returns, split
    into ``parts`` ranges (:func:`rangeqs.jobs.split`); :func:`start` runs it.

    ``queryset``, ``handler`` and ``throttle`` are dotted paths: the job
    stores names and JSON arguments, never pickled code or SQL.
    """
    if effects not in Effects.values:
        raise ValueError(
            f"effects={effects!r} is not one of {', '.join(Effects.values)}: pass "
            f"'database' for a handler that only writes to this database, 'outside' "
            f"for one with outside effects."
        )
    if runner not in Runner.values:
        raise ValueError(
            f"runner={runner!r} is not one of {', '.join(Runner.values)}: pick one."
        )
    if not 1 <= min_step <= max_step:
        raise ValueError(
            f"min_step={min_step} and max_step={max_step} bound no step: pass "
            f"1 <= min_step <= max_step."
        )
    for path in (handler, throttle):
        if path:
            _import(path)
    names = [order_by] if isinstance(order_by, str) else list(order_by)
    job = Job(
        name=name,
        queryset=queryset,
        queryset_kwargs=queryset_kwargs or {},
        order_by=names,
        override_unique_safety_check=override_unique_safety_check,
        plan=plan,
        handler=handler,
        handler_kwargs=handler_kwargs or {},
        effects=effects,
        runner=runner,
        queue=queue,
        task_backend=task_backend,
        budget_seconds=budget_seconds,
        step=bounded(step, min_step=min_step, max_step=max_step),
        min_step=min_step,
        max_step=max_step,
        target_seconds=target_seconds,
        throttle=throttle,
        throttle_kwargs=throttle_kwargs or {},
        max_attempts=max_attempts,
    )
    walked = _import(queryset)(**job.queryset_kwargs)
    job.model = walked.model._meta.label
    load_queryset(job)  # the same check every worker makes
    ranges = split(
        walked,
        order_by=names,
        parts=parts,
        override_unique_safety_check=override_unique_safety_check,
    )
    with transaction.atomic(using=using):
        job.save(using=using)
        JobRange.objects.using(using).bulk_create(
            JobRange(
                job=job,
                index=index,
                after=key_range.after,
                until=key_range.until,
                cursor=key_range.after,
                estimated_rows=key_range.estimated_rows,
                step=job.step,
            )
            for index, key_range in enumerate(ranges)
        )
        if not ranges:
            job.status = Status.DONE
            job.save(using=using, update_fields=["status"])
    return job


def _import(path: str) -> Any:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"{path!r} cannot be imported: pass the dotted path of a module-level "
            f"callable."
        ) from exc


def start(job: Job, **inline_options: Any) -> Job:
    """Run the job's unfinished ranges on its runner: in this process for
    ``inline`` (returning when it ends), else one task per range."""
    if job.runner == Runner.CELERY:
        from rangeqs.jobs.celery_tasks import enqueue  # noqa: PLC0415

        enqueue(job)
    elif job.runner == Runner.TASKS:
        from rangeqs.jobs.tasks import enqueue as enqueue_task  # noqa: PLC0415

        enqueue_task(job)
    else:
        run_inline(job, **inline_options)
    job.refresh_from_db()
    return job


def run_inline(
    job: Job,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
    progress: bool | None = None,
) -> Job:
    """Run every unfinished range of ``job`` here, one after another; a range
    that fails does not stop the others."""
    using = job._state.db or "default"
    pending = list(
        job.ranges.using(using).exclude(status__in=SETTLED).order_by("index")
    )
    bar = _progress_bar(job, using) if _wants_progress(progress) else None
    try:
        for job_range in pending:
            outcome = run_range(
                job_range.pk,
                clock=clock,
                sleep=sleep,
                using=using,
                on_batch=bar.update if bar is not None else None,
            )
            if outcome.status in (Status.PAUSED, Status.CANCELLED):
                break
    finally:
        if bar is not None:
            job.refresh_from_db()
            if job.status == Status.DONE:
                # The total was the planner's estimate; the rows are known now.
                bar.total = bar.n
                bar.refresh()
            bar.close()
    job.refresh_from_db()
    return job


def _wants_progress(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    import sys  # noqa: PLC0415

    return sys.stderr.isatty()


def _progress_bar(job: Job, using: str) -> Any:
    from tqdm import tqdm  # noqa: PLC0415

    ranges = list(job.ranges.using(using).values_list("estimated_rows", "rows"))
    return tqdm(
        total=sum(estimate for estimate, _ in ranges),
        initial=sum(rows for _, rows in ranges),
        desc=str(job),
        unit="row",
    )


def pause(job: Job) -> None:
    """Stop every range after its current batch; :func:`resume` goes on."""
    Job.objects.using(job._state.db).filter(
        pk=job.pk, status__in=[Status.PENDING, Status.RUNNING]
    ).update(status=Status.PAUSED)
    job.refresh_from_db()


def resume(job: Job, **inline_options: Any) -> Job:
    """Go on from the checkpoints: after a pause, a crash, a deploy or a
    killed worker. Ranges whose task is still alive are enqueued again too;
    the batches' locks make the two take turns."""
    Job.objects.using(job._state.db).filter(
        pk=job.pk, status__in=[Status.PAUSED, Status.RUNNING, Status.PENDING]
    ).update(status=Status.RUNNING)
    job.refresh_from_db()
    return start(job, **inline_options)


def retry_failed(job: Job, **inline_options: Any) -> Job:
    """Give the failed ranges a fresh set of attempts from their checkpoints."""
    using = job._state.db
    with transaction.atomic(using=using):
        job.ranges.using(using).filter(status=Status.FAILED).update(
            status=Status.PENDING, attempts=0, step=job.step, finished_at=None
        )
        Job.objects.using(using).filter(pk=job.pk).exclude(
            status=Status.CANCELLED
        ).update(status=Status.RUNNING)
    job.refresh_from_db()
    return start(job, **inline_options)


def cancel(job: Job) -> None:
    """Stop the job for good: its unfinished ranges are cancelled."""
    using = job._state.db
    with transaction.atomic(using=using):
        Job.objects.using(using).filter(pk=job.pk).update(status=Status.CANCELLED)
        job.ranges.using(using).exclude(status__in=SETTLED).update(
            status=Status.CANCELLED
        )
    job.refresh_from_db()
