"""Run the deletion task on one walk and one target set, and count."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.test.utils import override_settings

from rangeqs.examples.grouphash.seer import counting_seer_client
from rangeqs.examples.grouphash.tasks import schedule_seer_deletions

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rangeqs.examples.grouphash.tasks import HashWalk

__all__ = ["Measurement", "measure", "table"]

COUNTING_SEER_CLIENT = "rangeqs.examples.grouphash.seer.counting_seer_client"


@dataclass(frozen=True)
class Measurement:
    target_set: str
    walk: str
    plan: str
    queries: int
    rows: int
    seconds: float
    #: Of ``seconds``, the time spent inside the database's execute calls:
    #: the part the plan decides, without Python's share.
    database_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class _DatabaseTimer:
    """A ``connection.execute_wrapper`` that adds up the time of each query."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def measure(
    target_set: str, group_ids: list[int], walk_name: str, walk: HashWalk
) -> Measurement:
    """Schedule the deletion of ``group_ids`` on ``walk``; the counting Seer
    client checks that every hash reached it."""
    counting_seer_client.reset()
    timer = _DatabaseTimer()
    with (
        override_settings(RANGEQS_GROUPHASH_SEER_CLIENT=COUNTING_SEER_CLIENT),
        connection.execute_wrapper(timer),
    ):
        run = schedule_seer_deletions(group_ids, batch_size=100, walk=walk)
    if counting_seer_client.hashes != run.hashes:
        raise AssertionError(
            f"Seer received {counting_seer_client.hashes} hashes of the "
            f"{run.hashes} scheduled."
        )
    return Measurement(
        target_set=target_set,
        walk=walk_name,
        plan=f"{run.plan}, order by {', '.join(walk.order_by)}",
        queries=run.queries,
        rows=run.hashes,
        seconds=run.seconds,
        database_seconds=timer.seconds,
    )


def table(measurements: Sequence[Measurement]) -> str:
    """The measurements as a plain-text table."""
    header = (
        "set",
        "walk",
        "plan",
        "queries",
        "rows",
        "seconds",
        "rows/s",
        "db seconds",
    )
    lines = [
        (
            m.target_set,
            m.walk,
            m.plan,
            f"{m.queries:,}",
            f"{m.rows:,}",
            f"{m.seconds:.2f}",
            f"{m.rows_per_second:,.0f}",
            f"{m.database_seconds:.2f}",
        )
        for m in measurements
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    numeric = {3, 4, 5, 6, 7}

    def render(row: Sequence[str]) -> str:
        cells = [
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(header), rule, *(render(row) for row in lines)])
