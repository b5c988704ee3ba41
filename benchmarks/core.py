"""Issue 2's goals: bounded work per page, and a full pass close to a stream.

- Shared buffers of the first and the last page (by pk, and by the indexed
  compound ``(a, pk)``): the last may read at most 2x the first.
- A full pass with ``RangeQuerySetWrapper(step=1000)`` takes at most 1.5x the
  time of Django's ``queryset.iterator(chunk_size=1000)`` (a server-side
  cursor) over the same rows, measured in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.datagen import load_items
from benchmarks.measure import explain_page, pages, peak_memory, timed_pass
from benchmarks.models import BenchItem
from benchmarks.report import (
    Table,
    Target,
    format_bytes,
    format_ratio,
    format_seconds,
    generation_note,
)
from benchmarks.result import BenchmarkResult
from benchmarks.schema import footprint, prepared_table
from rangeqs import RangeQuerySetWrapper

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet

    from benchmarks.measure import PassResult

__all__ = ["CoreOptions", "run_core"]

MAX_PASS_RATIO = 1.5
MAX_LAST_TO_FIRST_BUFFERS = 2.0
# Pages the memory pass covers: enough to reach the steady state.
MEMORY_PAGES = 100

BASELINE = "QuerySet.iterator()"
BY_PK = "RangeQuerySetWrapper, pk"
BY_A_PK = "RangeQuerySetWrapper, (a, pk)"
BY_HAND = "keyset loop by hand, pk"


@dataclass(frozen=True)
class CoreOptions:
    rows: int = 1_000_000
    step: int = 1000
    # Best of this many passes per strategy, taken in turns so that a burst
    # of load on the machine hits every strategy alike.
    repeat: int = 3
    keep: bool = False


def run_core(
    connection: BaseDatabaseWrapper,
    options: CoreOptions,
    *,
    progress: Callable[[str], None] = lambda message: None,
) -> BenchmarkResult:
    progress(f"core: preparing {options.rows:,} rows")
    with prepared_table(
        connection, BenchItem, rows=options.rows, load=load_items, keep=options.keep
    ) as generation_seconds:
        progress(f"core: {options.repeat} timed passes per strategy, then memory")
        result = _measure(connection, options)
        size = footprint(connection, BenchItem)
    result.tables[0].notes.append(
        generation_note(options.rows, generation_seconds, size)
    )
    return result


def _strategies(step: int) -> dict[str, Callable[[], Iterator[object]]]:
    queryset = BenchItem.objects.all()
    return {
        BASELINE: lambda: queryset.iterator(chunk_size=step),
        BY_PK: lambda: iter(RangeQuerySetWrapper(queryset, step=step)),
        BY_A_PK: lambda: iter(
            RangeQuerySetWrapper(queryset, step=step, order_by=("a", "pk"))
        ),
        BY_HAND: lambda: _keyset_by_hand(queryset, step),
    }


def _keyset_by_hand(queryset: QuerySet[BenchItem], step: int) -> Iterator[object]:
    """The same page queries with nothing around them: the floor for any
    keyset wrapper built on the ORM, so the table shows the wrapper's own
    cost apart from the cost of the SQL shape."""
    last_pk = None
    while True:
        page_queryset = queryset.order_by("pk")
        if last_pk is not None:
            page_queryset = page_queryset.filter(pk__gt=last_pk)
        page = list(page_queryset[:step])
        yield from page
        if len(page) < step:
            return
        last_pk = page[-1].pk


def _measure(connection: BaseDatabaseWrapper, options: CoreOptions) -> BenchmarkResult:
    strategies = _strategies(options.step)
    best: dict[str, PassResult] = {}
    for _ in range(options.repeat):
        for name, make_rows in strategies.items():
            result = timed_pass(connection, make_rows)
            if name not in best or result.seconds < best[name].seconds:
                best[name] = result
    memory_rows = min(options.rows, MEMORY_PAGES * options.step)
    memory = {
        name: peak_memory(make_rows, rows=memory_rows)
        for name, make_rows in strategies.items()
    }

    baseline = best[BASELINE]
    passes = Table(
        f"Full pass over {options.rows:,} rows, step {options.step} "
        f"(best of {options.repeat})",
        [
            "strategy",
            "rows",
            "queries",
            "time",
            "rows/s",
            "vs iterator()",
            "peak memory",
        ],
    )
    for name, result in best.items():
        passes.rows.append(
            [
                name,
                f"{result.rows:,}",
                f"{len(result.queries):,}",
                format_seconds(result.seconds),
                f"{result.rows_per_second:,.0f}",
                format_ratio(result.seconds / baseline.seconds),
                format_bytes(memory[name]),
            ]
        )
    passes.notes.append(
        "`vs iterator()`: time divided by that of `QuerySet.iterator(chunk_size="
        f"{options.step})`, a server-side cursor over the unordered queryset. "
        f"Peak memory: tracemalloc peak over the first {memory_rows:,} rows, "
        "in a separate pass."
    )

    buffers = Table(
        "Shared buffers per page (EXPLAIN (ANALYZE, BUFFERS), hit + read)",
        ["ordering", "pages", "first page", "last page", "last / first"],
    )
    buffer_ratios: dict[str, float] = {}
    for name in (BY_PK, BY_A_PK):
        walked = pages(best[name])
        first, last = (explain_page(connection, walked[i]) for i in (0, -1))
        buffer_ratios[name] = last.buffers / first.buffers
        buffers.rows.append(
            [
                name.removeprefix("RangeQuerySetWrapper, "),
                f"{len(walked):,}",
                f"{first.buffers:,}",
                f"{last.buffers:,}",
                format_ratio(buffer_ratios[name]),
            ]
        )

    targets = [
        Target(
            "full pass by pk / iterator()",
            best[BY_PK].seconds / baseline.seconds,
            MAX_PASS_RATIO,
        ),
        Target(
            "last / first page buffers, pk",
            buffer_ratios[BY_PK],
            MAX_LAST_TO_FIRST_BUFFERS,
        ),
        Target(
            "last / first page buffers, (a, pk)",
            buffer_ratios[BY_A_PK],
            MAX_LAST_TO_FIRST_BUFFERS,
        ),
    ]
    return BenchmarkResult([passes, buffers], targets)
