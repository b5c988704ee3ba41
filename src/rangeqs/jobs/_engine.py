"""Run the batches of one range: fetch, hand over, checkpoint, pace.

Each batch runs in one transaction that locks its range's row first
(``SELECT ... FOR UPDATE``): the batch's rows are read from the range's
checkpoint, the handler is called, and the new checkpoint is saved. A worker
killed inside a batch rolls all of it back (its connection closes and the
lock goes with it), so the next worker on the range starts at the same row.
Two workers on one range take turns batch by batch; the checkpoint is saved
only against the batch count it was read with, so on a database without row
locks (SQLite) the slower of two concurrent batches rolls back too.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from rangeqs.jobs._pacing import next_step, smaller_step
from rangeqs.jobs.models import Job, JobRange, Status
from rangeqs.wrapper import RangeQuerySetWrapper

if TYPE_CHECKING:
    from collections.abc import Callable

#: Range states in which no batch runs.
SETTLED = (Status.DONE, Status.FAILED, Status.CANCELLED)


@dataclass(frozen=True)
class Batch:
    """What a handler is called with.

    ``key`` names the batch stably: a batch tried again after a crash or a
    failure has the same key and starts at the same row (after a failure it
    may hold fewer rows, a prefix of the first try's). A handler with outside
    effects uses it to stay idempotent.
    """

    rows: list[Any]
    key: str
    job_id: int
    range_index: int
    #: The checkpoint the batch starts strictly after, or None at the range's start.
    after: str | None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Why ``run_range`` returned: the range is ``done``, ``failed``,
    ``paused`` or ``cancelled``, or there is ``more`` to do (its time budget
    ran out, or the throttle asked to wait ``wait_seconds`` longer than it)."""

    status: str
    wait_seconds: float = 0.0

    @property
    def more(self) -> bool:
        return self.status == "more"


def load_queryset(job: Job) -> QuerySet[Any, Any]:
    """The queryset the job walks, from its callable and keyword arguments."""
    queryset = import_string(job.queryset)(**job.queryset_kwargs)
    if not isinstance(queryset, QuerySet) or queryset.model._meta.label != job.model:
        raise ImproperlyConfigured(
            f"{job.queryset}(**{job.queryset_kwargs!r}) returned {queryset!r}, not a "
            f"queryset of {job.model}: make it return the queryset the job was "
            f"created with."
        )
    return queryset


def run_range(
    range_id: int,
    *,
    budget_seconds: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
    on_batch: Callable[[int], object] | None = None,
    using: str = "default",
) -> Outcome:
    """Run batches of one range until it ends, the job is paused or cancelled,
    or ``budget_seconds`` (of ``clock``) are spent."""
    started = clock()
    _mark_running(range_id, using)
    while True:
        job_range = JobRange.objects.using(using).select_related("job").get(pk=range_id)
        job = job_range.job
        if job.status in (Status.PAUSED, Status.CANCELLED):
            return Outcome(str(job.status))
        if job_range.status in SETTLED:
            return Outcome(str(job_range.status))
        wait = _throttle_wait(job, job_range, using)
        if wait > 0:
            if budget_seconds is not None and clock() - started + wait > budget_seconds:
                return Outcome("more", wait)
            sleep(wait)
            continue
        handled = _one_batch(job, job_range, clock, using)
        if handled is None:
            _settle_job(job.pk, using)
            job_range.refresh_from_db(fields=["status"])
            return Outcome(str(job_range.status))
        if on_batch is not None and handled:
            on_batch(handled)
        if budget_seconds is not None and clock() - started >= budget_seconds:
            return Outcome("more")


def _mark_running(range_id: int, using: str) -> None:
    ranges = JobRange.objects.using(using)
    ranges.filter(pk=range_id, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    job_id = ranges.values_list("job_id", flat=True).get(pk=range_id)
    Job.objects.using(using).filter(pk=job_id, status=Status.PENDING).update(
        status=Status.RUNNING
    )


def _throttle_wait(job: Job, job_range: JobRange, using: str) -> float:
    if not job.throttle:
        return 0.0
    throttle = import_string(job.throttle)
    wait = throttle(
        job=job,
        job_range=job_range,
        connection=connections[using],
        **job.throttle_kwargs,
    )
    return float(wait or 0.0)


def _one_batch(
    job: Job, seen: JobRange, clock: Callable[[], float], using: str
) -> int | None:
    """Run the next batch of the range: the rows handled (0 when this try did
    not finish one), or None when the range has no rows left."""
    try:
        with transaction.atomic(using=using):
            current = JobRange.objects.using(using).select_for_update().get(pk=seen.pk)
            if current.status in SETTLED or current.batches != seen.batches:
                return 0
            begun = clock()
            wrapper = RangeQuerySetWrapper(
                load_queryset(job),
                step=current.step,
                limit=current.step,
                order_by=job.order_by,
                override_unique_safety_check=job.override_unique_safety_check,
                plan=job.plan,  # type: ignore[arg-type]
                after=current.cursor,
                until=current.until,
            )
            rows = next(wrapper.batches(), None)
            if rows is None:
                current.status = Status.DONE
                current.finished_at = timezone.now()
                current.save(update_fields=["status", "finished_at", "updated_at"])
                return None
            key = f"rangeqs-job-{job.pk}-range-{current.index}-batch-{current.batches}"
            handler = import_string(job.handler)
            handler(
                Batch(
                    rows, key, job.pk, current.index, current.cursor, job.handler_kwargs
                )
            )
            seconds = clock() - begun
            step = current.step
            if job.target_seconds is not None:
                step = next_step(
                    step,
                    seconds,
                    target=job.target_seconds,
                    min_step=job.min_step,
                    max_step=job.max_step,
                )
            saved = (
                JobRange.objects.using(using)
                .filter(pk=current.pk, batches=current.batches)
                .update(
                    cursor=wrapper.cursor,
                    rows=F("rows") + len(rows),
                    batches=F("batches") + 1,
                    seconds=F("seconds") + seconds,
                    step=step,
                    attempts=0,
                    last_error="",
                    updated_at=timezone.now(),
                )
            )
            if saved != 1:
                raise _CheckpointMoved
            return len(rows)
    except _CheckpointMoved:
        return 0
    except Exception:
        _record_failure(job, seen.pk, traceback.format_exc(), using)
        return 0


class _CheckpointMoved(Exception):
    """Another worker saved this batch first: this try rolls back."""


def _record_failure(job: Job, range_id: int, error: str, using: str) -> None:
    with transaction.atomic(using=using):
        current = JobRange.objects.using(using).select_for_update().get(pk=range_id)
        current.attempts += 1
        current.failures += 1
        current.last_error = error
        if current.attempts >= job.max_attempts:
            current.status = Status.FAILED
            current.finished_at = timezone.now()
        else:
            current.step = smaller_step(current.step, min_step=job.min_step)
        current.save()
    if current.status == Status.FAILED:
        _settle_job(job.pk, using)


def _settle_job(job_id: int, using: str) -> None:
    """Mark the job done, or failed, once none of its ranges has work left."""
    ranges = JobRange.objects.using(using).filter(job_id=job_id)
    if ranges.exclude(status__in=SETTLED).exists():
        return
    failed = ranges.filter(status=Status.FAILED).exists()
    Job.objects.using(using).filter(
        pk=job_id, status__in=[Status.PENDING, Status.RUNNING]
    ).update(status=Status.FAILED if failed else Status.DONE)
