"""Rows done, rate and ETA of a job and of each of its ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    import datetime

    from rangeqs.jobs.models import Job, JobRange


@dataclass(frozen=True)
class RangeProgress:
    index: int
    status: str
    rows: int
    estimated_rows: int
    batches: int
    step: int
    failures: int
    #: Rows a second of wall time since the range started (None before).
    rate: float | None
    #: Seconds left at that rate (None when unknown, 0 when finished).
    eta_seconds: float | None


@dataclass(frozen=True)
class JobProgress:
    job_id: int
    name: str
    status: str
    rows: int
    estimated_rows: int
    rate: float | None
    eta_seconds: float | None
    ranges: tuple[RangeProgress, ...]


def progress(job: Job, *, now: datetime.datetime | None = None) -> JobProgress:
    """Where ``job`` stands, read from its rows (one query for the ranges).

    Estimates come from the database's row estimates when the job was split,
    so the ETA is as good as they are; a finished range counts as done.
    """
    now = now or timezone.now()
    ranges = list(job.ranges.using(job._state.db).order_by("index"))
    parts = tuple(_range_progress(job_range, now) for job_range in ranges)
    rows = sum(part.rows for part in parts)
    estimated = sum(max(part.estimated_rows, part.rows) for part in parts)
    starts = [r.started_at for r in ranges if r.started_at is not None]
    ends = [r.finished_at or now for r in ranges if r.started_at is not None]
    rate = None
    if starts:
        elapsed = (max(ends) - min(starts)).total_seconds()
        rate = rows / elapsed if elapsed > 0 else None
    eta = _eta(estimated - rows, rate, finished=all(p.eta_seconds == 0 for p in parts))
    return JobProgress(
        job.pk, str(job), str(job.status), rows, estimated, rate, eta, parts
    )


def _range_progress(job_range: JobRange, now: datetime.datetime) -> RangeProgress:
    finished = job_range.finished_at is not None
    rate = None
    if job_range.started_at is not None:
        elapsed = (
            (job_range.finished_at or now) - job_range.started_at
        ).total_seconds()
        rate = job_range.rows / elapsed if elapsed > 0 else None
    remaining = max(job_range.estimated_rows - job_range.rows, 0)
    return RangeProgress(
        index=job_range.index,
        status=str(job_range.status),
        rows=job_range.rows,
        estimated_rows=job_range.estimated_rows,
        batches=job_range.batches,
        step=job_range.step,
        failures=job_range.failures,
        rate=rate,
        eta_seconds=_eta(remaining, rate, finished=finished),
    )


def _eta(remaining: int, rate: float | None, *, finished: bool) -> float | None:
    if finished:
        return 0.0
    if not rate:
        return None
    return remaining / rate
