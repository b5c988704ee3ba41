"""Walk one target set with one walk and time every page.

The statement recorder and :func:`pages` also serve the benchmarks
(``benchmarks/measure.py`` imports them; this package never imports from
there, as it is not installed), so this module imports the example's models
only where it walks.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection

from rangeqs import RangeQuerySetWrapper

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rangeqs.examples.grouphash.datagen import TargetSet
    from rangeqs.examples.grouphash.tasks import HashWalk

__all__ = [
    "PageTime",
    "QueryRecorder",
    "RecordedQuery",
    "WalkMeasurement",
    "measure_walk",
    "page_times_table",
    "pages",
    "totals_table",
]


@dataclass(frozen=True)
class RecordedQuery:
    sql: str
    params: Any
    # Rows the statement returned; -1 where the driver cannot tell (a
    # server-side cursor's DECLARE).
    rowcount: int
    # Rows the loop had consumed when the statement ran: statements with the
    # same position ran for the same page.
    position: int
    # Inside the driver's execute call: the part the query plan decides.
    seconds: float = 0.0


@dataclass
class QueryRecorder:
    """A ``connection.execute_wrapper`` that records and times each statement;
    the caller advances ``rows_seen`` as it consumes rows."""

    queries: list[RecordedQuery] = field(default_factory=list)
    rows_seen: int = 0

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        result = execute(sql, params, many, context)
        seconds = time.perf_counter() - started
        self.queries.append(
            RecordedQuery(
                sql, params, context["cursor"].rowcount, self.rows_seen, seconds
            )
        )
        return result

    @property
    def seconds(self) -> float:
        return sum(query.seconds for query in self.queries)


def pages(queries: Sequence[RecordedQuery]) -> list[list[RecordedQuery]]:
    """The statements of each page: those that ran between two rows.

    A page may take more than one statement (a plan that finds the page's
    keys first, then fetches its rows); a trailing group whose statements
    returned nothing only found the end and is not a page.
    """
    grouped: dict[int, list[RecordedQuery]] = {}
    for query in queries:
        grouped.setdefault(query.position, []).append(query)
    return [
        statements
        for statements in grouped.values()
        if any(query.rowcount > 0 for query in statements)
    ]


@dataclass(frozen=True)
class PageTime:
    rows: int
    #: Waiting for the page, as the task does: the queries and Django making
    #: the rows.
    seconds: float
    #: Of ``seconds``, the part inside the database's execute calls.
    database_seconds: float


@dataclass(frozen=True)
class WalkMeasurement:
    target_set: str
    walk: str
    plan: str
    queries: int
    rows: int
    seconds: float
    database_seconds: float
    pages: tuple[PageTime, ...]

    @property
    def slowest_page(self) -> float:
        return max((page.seconds for page in self.pages), default=0.0)

    @property
    def median_page(self) -> float:
        return statistics.median(page.seconds for page in self.pages)


def measure_walk(
    target: TargetSet, walk_name: str, walk: HashWalk, *, step: int
) -> WalkMeasurement:
    """Walk the hashes of ``target`` as the Seer deletion task does, one batch
    of ``step`` at a time, timing each page; every hash must come once."""
    # Here, not above: the benchmarks import the recorder without the app.
    from rangeqs.examples.grouphash.models import GroupHash  # noqa: PLC0415

    queryset = GroupHash.objects.filter(group_id__in=target.group_ids)
    if walk.tenant_filter:
        queryset = queryset.filter(project_id=target.project_id)
    expected = queryset.count()
    wrapper = RangeQuerySetWrapper(
        queryset.values_list("hash", flat=True),
        step=step,
        order_by=walk.order_by,
        plan=walk.plan,
    )
    recorder = QueryRecorder()
    seen: set[str] = set()
    page_times: list[PageTime] = []
    with connection.execute_wrapper(recorder):
        started = time.perf_counter()
        batches = wrapper.batches()
        while True:
            page_started = time.perf_counter()
            database_before = recorder.seconds
            batch = next(batches, None)
            if batch is None:
                break
            page_times.append(
                PageTime(
                    len(batch),
                    time.perf_counter() - page_started,
                    recorder.seconds - database_before,
                )
            )
            seen.update(batch)
            recorder.rows_seen += len(batch)
        seconds = time.perf_counter() - started
    if recorder.rows_seen != expected or len(seen) != expected:
        raise AssertionError(
            f"The {walk_name!r} walk of the {target.name} set yielded "
            f"{recorder.rows_seen} rows, {len(seen)} distinct, of {expected}."
        )
    return WalkMeasurement(
        target_set=target.name,
        walk=walk_name,
        plan=f"{wrapper.plan}, order by {', '.join(walk.order_by)}",
        queries=len(recorder.queries),
        rows=recorder.rows_seen,
        seconds=seconds,
        database_seconds=recorder.seconds,
        pages=tuple(page_times),
    )


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def totals_table(measurements: Sequence[WalkMeasurement]) -> str:
    """One line per walk: its totals and its first, median and slowest page."""
    header = (
        "set",
        "walk",
        "plan",
        "queries",
        "rows",
        "pages",
        "seconds",
        "db seconds",
        "first page ms",
        "median ms",
        "slowest ms",
    )
    lines = [
        (
            m.target_set,
            m.walk,
            m.plan,
            f"{m.queries:,}",
            f"{m.rows:,}",
            f"{len(m.pages):,}",
            f"{m.seconds:.2f}",
            f"{m.database_seconds:.2f}",
            _milliseconds(m.pages[0].seconds) if m.pages else "",
            _milliseconds(m.median_page) if m.pages else "",
            _milliseconds(m.slowest_page),
        )
        for m in measurements
    ]
    return _render(header, lines, numeric_from=3)


def page_times_table(measurements: Sequence[WalkMeasurement], *, points: int) -> str:
    """Each walk's page time, in milliseconds, at ``points`` pages spread from
    its first page to its last: how the cost of a page moves along the walk."""
    header = ("set", "walk", *(_position_label(i, points) for i in range(points)))
    lines = []
    for m in measurements:
        count = len(m.pages)
        picked = [round(i * (count - 1) / (points - 1)) for i in range(points)]
        lines.append(
            (
                m.target_set,
                m.walk,
                *(_milliseconds(m.pages[index].seconds) for index in picked),
            )
        )
    return _render(header, lines, numeric_from=2)


def _position_label(i: int, points: int) -> str:
    if i == 0:
        return "first"
    if i == points - 1:
        return "last"
    return f"{round(100 * i / (points - 1))}%"


def _render(
    header: Sequence[str], lines: Sequence[Sequence[str]], *, numeric_from: int
) -> str:
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def render(row: Sequence[str]) -> str:
        cells = [
            cell.rjust(width) if i >= numeric_from else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(header), rule, *(render(row) for row in lines)])
