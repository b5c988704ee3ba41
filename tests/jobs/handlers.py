"""Querysets and handlers the test jobs name by dotted path.

Worker processes import them too, and read how to misbehave from the
environment: ``RANGEQS_TEST_HANG_AT_BATCH=n`` makes the n-th batch a worker
handles (counting from 1) hang after its handler's effects, so that a test
can kill the worker in the middle of a batch.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from tests.jobs.models import Item, Processed

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from rangeqs.jobs import Batch

_handled_here = 0


def items(*, low: int | None = None) -> QuerySet[Item, Item]:
    queryset = Item.objects.all()
    return queryset if low is None else queryset.filter(number__gte=low)


def item_ids(**kwargs: Any) -> QuerySet[Item, int]:
    return items(**kwargs).values_list("pk", flat=True)


def record_in_database(batch: Batch) -> None:
    """A database-only handler: what it writes commits with the checkpoint."""
    Processed.objects.bulk_create(
        Processed(item_id=pk, batch_key=batch.key) for pk in batch.rows
    )
    _maybe_hang()


def record_outside(batch: Batch) -> None:
    """An outside-effect handler: appends to a file no rollback undoes."""
    path = batch.options["path"]
    with open(path, "a") as out:
        out.write(f"{batch.key} {' '.join(str(pk) for pk in batch.rows)}\n")
        out.flush()
        os.fsync(out.fileno())
    _maybe_hang()


def _maybe_hang() -> None:
    global _handled_here  # noqa: PLW0603
    _handled_here += 1
    hang_at = os.environ.get("RANGEQS_TEST_HANG_AT_BATCH")
    if hang_at and _handled_here == int(hang_at):
        marker = os.environ["RANGEQS_TEST_HANG_MARKER"]
        with open(marker, "w") as out:
            out.write(str(os.getpid()))
        # Killed here by the test, with the batch's transaction open.
        time.sleep(600)


class Failing(Exception):
    pass


def fail_on_big_batches(batch: Batch) -> None:
    """Fails any batch of more than ``max_rows`` rows: a smaller step passes."""
    if len(batch.rows) > batch.options["max_rows"]:
        raise Failing(f"{len(batch.rows)} rows")
    record_in_database(batch)


def fail_on_item(batch: Batch) -> None:
    """Fails every batch holding item ``pk``: its range cannot finish."""
    if batch.options["pk"] in batch.rows:
        raise Failing("poisoned row")
    record_in_database(batch)


def pause_after_first_batch(batch: Batch) -> None:
    """Pauses its own job after the job's first batch, as an operator would."""
    from rangeqs.jobs.models import Job, Status

    first = not Processed.objects.exists()
    record_in_database(batch)
    if first:
        Job.objects.filter(pk=batch.job_id).update(status=Status.PAUSED)


class FakeClock:
    """A clock that moves only when a handler says its batch took time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


fake_clock = FakeClock()
batch_sizes: list[int] = []


def costly(batch: Batch) -> None:
    """Takes ``fixed + per_row * rows`` seconds of the fake clock."""
    batch_sizes.append(len(batch.rows))
    fake_clock.now += batch.options.get("fixed", 0.0) + batch.options["per_row"] * len(
        batch.rows
    )
    record_in_database(batch)


throttle_answers: list[float] = []


def scripted_throttle(**_: Any) -> float:
    """Answers from ``throttle_answers`` in turn, then 0."""
    return throttle_answers.pop(0) if throttle_answers else 0.0


def seer_to_file(project_id: int, hashes: list[str]) -> None:
    """A Seer client for worker processes: appends each call to the file
    named by ``RANGEQS_TEST_SEER_FILE``."""
    with open(os.environ["RANGEQS_TEST_SEER_FILE"], "a") as out:
        out.write(f"{project_id} {' '.join(hashes)}\n")
