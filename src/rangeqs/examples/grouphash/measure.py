"""Run the deletion task on one walk and one target set, and count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.test.utils import override_settings

from rangeqs.examples.grouphash.seer import counting_seer_client
from rangeqs.examples.grouphash.tasks import schedule_seer_deletions

if TYPE_CHECKING:
    from collections.abc import Sequence

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
    slowest_page_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def measure(
    target_set: str, group_ids: list[int], walk_name: str, walk: HashWalk
) -> Measurement:
    """Schedule the deletion of ``group_ids`` on ``walk``; the counting Seer
    client checks that every hash reached it."""
    counting_seer_client.reset()
    with override_settings(RANGEQS_GROUPHASH_SEER_CLIENT=COUNTING_SEER_CLIENT):
        run = schedule_seer_deletions(group_ids, batch_size=100, walk=walk)
    if counting_seer_client.hashes != run.hashes:
        raise AssertionError(
            f"Seer received {counting_seer_client.hashes} hashes of the "
            f"{run.hashes} scheduled."
        )
    return Measurement(
        target_set=target_set,
        walk=walk_name,
        plan=_describe(run.plan, walk),
        queries=run.queries,
        rows=run.hashes,
        seconds=run.seconds,
        slowest_page_seconds=run.slowest_page_seconds,
    )


def _describe(plan: str, walk: HashWalk) -> str:
    tenant = "project_id + " if walk.tenant_filter else ""
    return f"{tenant}group_id IN, order by {', '.join(walk.order_by)}, {plan}"


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
        "slowest page ms",
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
            f"{m.slowest_page_seconds * 1000:,.1f}",
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
