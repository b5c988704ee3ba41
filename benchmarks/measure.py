"""Timing, peak memory, and shared buffers from EXPLAIN.

Statements are recorded, and grouped into pages, by the GroupHash example's
recorder: one implementation serves the demo and the benchmarks.
"""

from __future__ import annotations

import itertools
import json
import time
import tracemalloc
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.db import transaction

from rangeqs._plans.bounded import SETTINGS_COMMENT, settings_in_front
from rangeqs.examples.grouphash.measure import QueryRecorder, RecordedQuery
from rangeqs.examples.grouphash.measure import pages as statement_pages

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "PagePlan",
    "PassResult",
    "RecordedQuery",
    "explain_page",
    "pages",
    "peak_memory",
    "timed_pass",
]

# How often (in rows) a pass looks at the clock for --max-seconds: rarely
# enough to cost nothing, often enough to stop within a page or two.
_CLOCK_EVERY_ROWS = 100


@dataclass(frozen=True)
class PassResult:
    rows: int
    seconds: float
    queries: list[RecordedQuery]
    # False when --max-seconds stopped the pass before the last row.
    complete: bool

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def timed_pass(
    connection: BaseDatabaseWrapper,
    make_rows: Callable[[], Iterator[object]],
    *,
    max_seconds: float | None = None,
) -> PassResult:
    """Iterate every row ``make_rows()`` yields, as a task would, and time it.

    Building the iterator is inside the timing: a strategy that runs queries
    up front pays for them.
    """
    recorder = QueryRecorder()
    complete = True
    with connection.execute_wrapper(recorder):
        start = time.perf_counter()
        iterator = make_rows()
        try:
            for _ in iterator:
                recorder.rows_seen += 1
                if (
                    max_seconds is not None
                    and recorder.rows_seen % _CLOCK_EVERY_ROWS == 0
                    and time.perf_counter() - start > max_seconds
                ):
                    complete = False
                    break
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        seconds = time.perf_counter() - start
    return PassResult(recorder.rows_seen, seconds, recorder.queries, complete)


def peak_memory(make_rows: Callable[[], Iterator[object]], *, rows: int) -> int:
    """Peak bytes Python allocated while iterating the first ``rows`` rows.

    A separate, untimed pass: tracemalloc makes every allocation about ten
    times slower, so it covers enough pages to reach the steady state, not
    the whole table.
    """
    tracemalloc.start()
    iterator = make_rows()
    try:
        for _ in itertools.islice(iterator, rows):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
        tracemalloc.stop()


def pages(result: PassResult) -> list[list[RecordedQuery]]:
    """The statements of each page of ``result`` (see the example's ``pages``).

    The row a guarded page's settings statement returns is not a row of the
    page: a trailing group that only set them and found the end is no page.
    """
    return [
        statements
        for statements in statement_pages(result.queries)
        if any(
            query.rowcount > 0 and not query.sql.startswith(SETTINGS_COMMENT)
            for query in statements
        )
    ]


@dataclass(frozen=True)
class PagePlan:
    # Shared buffers hit plus read while executing (planning excluded).
    buffers: int
    sorts: bool


def explain_page(
    connection: BaseDatabaseWrapper, queries: Sequence[RecordedQuery]
) -> PagePlan:
    """Run a page's statements again under ``EXPLAIN (ANALYZE, BUFFERS)``,
    as the page ran them.

    A guarded page (``rangeqs._plans.bounded``) sets planner settings for
    its transaction before its statement, in a statement of their own or in
    front of the page's in the same message: those settings run again as
    they are, in one transaction with the page's statements, or
    each statement would be explained under the session's settings, in a
    query plan the page never ran.
    """
    plans: list[PagePlan] = []
    with transaction.atomic(using=connection.alias):
        for query in queries:
            in_front = settings_in_front(query.sql)
            if query.sql.startswith(SETTINGS_COMMENT):
                with connection.cursor() as cursor:
                    cursor.execute(query.sql, query.params)
            elif in_front is not None:
                # The settings were sent in the page's own message.
                settings, sql = in_front
                with connection.cursor() as cursor:
                    cursor.execute(settings)
                plans.append(_explain(connection, replace(query, sql=sql)))
            else:
                plans.append(_explain(connection, query))
    return PagePlan(
        buffers=sum(plan.buffers for plan in plans),
        sorts=any(plan.sorts for plan in plans),
    )


def _explain(connection: BaseDatabaseWrapper, query: RecordedQuery) -> PagePlan:
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query.sql}", query.params
        )
        row = cursor.fetchone()
    assert row is not None
    document = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    plan = document[0]["Plan"]
    return PagePlan(
        buffers=plan["Shared Hit Blocks"] + plan["Shared Read Blocks"],
        sorts=_has_sort(plan),
    )


def _has_sort(plan: dict[str, Any]) -> bool:
    children: Sequence[dict[str, Any]] = plan.get("Plans", ())
    return plan["Node Type"] in {"Sort", "Incremental Sort"} or any(
        _has_sort(child) for child in children
    )
