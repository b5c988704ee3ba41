"""Issue 11: a job's walk over 1, 2 and 4 workers, and the cost of splitting it.

- The same backfill job (an ``UPDATE`` of each batch's rows, a database-only
  handler) over the benchmark's item table, run by 1, 2 and 4 worker
  processes taking ranges from one queue, in turns, best of ``repeat``; the
  ratios are to the one-worker time of the same run.
- :func:`rangeqs.jobs.split` on tables of growing size: its time and
  statements, beside a ``COUNT(*)`` of the same table (which reads it all).
  Target: from the smallest to the largest table the split's time grows at
  most a tenth as fast as the rows.

The workers here are plain processes calling :func:`rangeqs.jobs.run_range`
for each range id they take from a ``multiprocessing`` queue: the job engine
without a broker's overhead, which the Celery and Django Tasks runners add
per task (not per batch).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection as default_connection
from django.db import connections
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext

from benchmarks.datagen import load_items
from benchmarks.models import BenchItem
from benchmarks.report import Table, Target, format_ratio, format_seconds
from benchmarks.result import BenchmarkResult
from benchmarks.schema import prepared_table
from rangeqs.jobs import create_job, run_range, split
from rangeqs.jobs.models import Job, JobRange, Status

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet

    from rangeqs.jobs import Batch

__all__ = ["JobsOptions", "run_jobs"]

# From the smallest to the largest table, the split may grow by at most this
# share of the growth of the rows (100x the rows: at most 10x the time).
MAX_SPLIT_GROWTH_SHARE = 0.1


@dataclass(frozen=True)
class JobsOptions:
    rows: int = 200_000
    step: int = 1000
    parts: int = 8
    workers: tuple[int, ...] = (1, 2, 4)
    split_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    repeat: int = 2


def items() -> QuerySet[BenchItem, int]:
    """The job's queryset (named by dotted path)."""
    return BenchItem.objects.values_list("pk", flat=True)


def backfill(batch: Batch) -> None:
    """The job's handler: rewrite each row of the batch."""
    BenchItem.objects.filter(pk__in=batch.rows).update(payload=Upper("payload"))


def run_jobs(
    connection: BaseDatabaseWrapper,
    options: JobsOptions,
    *,
    progress: Callable[[str], None] = lambda message: None,
) -> BenchmarkResult:
    with _job_tables(connection):
        progress(f"jobs: {options.rows:,} rows, workers {options.workers}")
        with prepared_table(connection, BenchItem, rows=options.rows, load=load_items):
            workers_table = _measure_workers(connection, options, progress)
        split_table, target = _measure_split(connection, options, progress)
    return BenchmarkResult([workers_table, split_table], [target])


@contextlib.contextmanager
def _job_tables(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """The jobs app's tables for the run, created and dropped (never migrated,
    like the benchmark's own); where the app is migrated (the test database)
    they are used as they are."""
    if Job._meta.db_table in connection.introspection.table_names():
        yield
        return
    with connection.schema_editor() as editor:
        editor.create_model(Job)
        editor.create_model(JobRange)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(JobRange)
            editor.delete_model(Job)


def _measure_workers(
    connection: BaseDatabaseWrapper,
    options: JobsOptions,
    progress: Callable[[str], None],
) -> Table:
    best: dict[int, float] = {}
    for turn in range(options.repeat):
        for workers in options.workers:
            with connection.cursor() as cursor:
                # Each run rewrites every row: reclaim the last run's versions
                # so that no run pays for another's dead rows.
                cursor.execute(f"VACUUM {BenchItem._meta.db_table}")
            job = create_job(
                queryset="benchmarks.jobs.items",
                handler="benchmarks.jobs.backfill",
                order_by="id",
                parts=options.parts,
                step=options.step,
                max_step=options.step,
                name=f"bench {workers} workers",
            )
            seconds = _run_with_workers(connection, job, workers)
            job.refresh_from_db()
            if job.status != Status.DONE:
                raise RuntimeError(f"the benchmark job ended {job.status}")
            progress(f"jobs: turn {turn + 1}, {workers} workers: {seconds:.2f} s")
            best[workers] = min(seconds, best.get(workers, seconds))
    table = Table(
        f"Backfill job over {options.rows:,} rows, {options.parts} ranges, step "
        f"{options.step} (best of {options.repeat})",
        ["workers", "time", "rows/s", "vs 1 worker"],
    )
    single = best.get(1)
    for workers, seconds in best.items():
        table.rows.append(
            [
                str(workers),
                format_seconds(seconds),
                f"{options.rows / seconds:,.0f}",
                format_ratio(single / seconds) if single else "-",
            ]
        )
    table.notes.append(
        "`vs 1 worker`: the speed-up, one-worker time divided by this time. Each "
        "worker is a process with its own connection, and the database server "
        "runs on the same machine: on 2 cores the workers, the server and "
        "anything else running share them, so the speed-up stays well under the "
        "worker count; more workers than cores still gain a little where a "
        "worker waits on the server (round trips, commits). On a machine with "
        "more cores than workers, the database elsewhere, the speed-up grows "
        "with the workers until the server's CPU, disk or WAL is the limit."
    )
    return table


def _run_with_workers(connection: BaseDatabaseWrapper, job: Job, workers: int) -> float:
    # Forked with no connection open: each worker opens its own, and Django is
    # already set up in it.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    ranges: Any = context.Queue()
    ready: Any = context.Queue()
    done: Any = context.Queue()
    processes = [
        context.Process(target=_worker, args=(ranges, ready, done))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=120)
        started = time.perf_counter()
        for range_id in job.ranges.order_by("index").values_list("pk", flat=True):
            ranges.put(range_id)
        for _ in processes:
            ranges.put(None)
        for _ in processes:
            done.get(timeout=3600)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()


def _worker(ranges: Any, ready: Any, done: Any) -> None:
    """A worker process: its own connection, then ranges until the sentinel."""
    default_connection.ensure_connection()
    ready.put(True)
    try:
        while (range_id := ranges.get()) is not None:
            run_range(range_id)
    finally:
        default_connection.close()
        done.put(True)


def _measure_split(
    connection: BaseDatabaseWrapper,
    options: JobsOptions,
    progress: Callable[[str], None],
) -> tuple[Table, Target]:
    table = Table(
        f"Computing {options.parts * 2} ranges against the size of the table",
        ["rows", "split", "statements", "COUNT(*)", "split / COUNT(*)"],
    )
    timings: dict[int, float] = {}
    for rows in options.split_sizes:
        progress(f"jobs: split over {rows:,} rows")
        with prepared_table(connection, BenchItem, rows=rows, load=load_items):
            split_seconds, statements = _best_split(connection, options)
            count_seconds = _best(BenchItem.objects.count, options.repeat)
        timings[rows] = split_seconds
        table.rows.append(
            [
                f"{rows:,}",
                format_seconds(split_seconds),
                str(statements),
                format_seconds(count_seconds),
                format_ratio(split_seconds / count_seconds),
            ]
        )
    smallest, largest = min(timings), max(timings)
    growth = (timings[largest] / timings[smallest]) / (largest / smallest)
    table.notes.append(
        "The split: the cuts from `pg_stats` (the table is analyzed), then per "
        "range one `ORDER BY id DESC LIMIT 1` bounded by the key and one "
        "`EXPLAIN` for its estimate. `COUNT(*)` reads the whole table, for scale."
    )
    target = Target(
        f"split time growth / row growth, {smallest:,} -> {largest:,} rows",
        growth,
        MAX_SPLIT_GROWTH_SHARE,
    )
    return table, target


def _best_split(
    connection: BaseDatabaseWrapper, options: JobsOptions
) -> tuple[float, int]:
    best = None
    statements = 0
    for _ in range(max(options.repeat, 3)):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            split(BenchItem.objects.all(), order_by="id", parts=options.parts * 2)
            seconds = time.perf_counter() - started
        statements = len(captured.captured_queries)
        best = seconds if best is None else min(best, seconds)
    assert best is not None
    return best, statements


def _best(run: Callable[[], object], repeat: int) -> float:
    best = None
    for _ in range(max(repeat, 3)):
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
        best = seconds if best is None else min(best, seconds)
    assert best is not None
    return best
