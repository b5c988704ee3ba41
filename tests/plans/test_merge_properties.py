"""Property tests: merge pages yield Django's rows however the values cluster.

On PostgreSQL a merge page reads a share of each listed value's keys from
the serving index, keeps those up to the nearest last key of a value that
filled its share, and takes a whole page of keys of each value when those
fall short (``MergePlan._prepare_bounded_keys``). Rows in runs of one group,
of any length, make every case: values that interleave, values that come
first or last, values with fewer rows than their share, listed values with
no rows; for an integer IN column, a text one under a case-insensitive
collation where the database has one (listed values that the column finds
equal), keys of more than the primary key, of one direction, of mixed
directions and with a key that may be NULL, and querysets grouped by their
rows. Django's own evaluation of the same queryset is the answer, on every
database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rangeqs import RangeQuerySetWrapper
from tests.compiled_pages import COMPILED_PAGES
from tests.plans.helpers import make_runs
from tests.testapp.models import ExactRow, MixedSeenRow, PlanRow, SeenRow

if TYPE_CHECKING:
    from django.db.models import QuerySet


def assert_merge_walks_yield(
    queryset: QuerySet[Any], order_by: tuple[str, ...], *, step: int, stop: int
) -> None:
    """A merge walk of ``queryset`` yields Django's rows in ``order_by``, by
    keys on PostgreSQL's compiled pages; stopped after ``stop`` rows and
    resumed from its cursor at another step, it goes on where it stopped."""
    expected = list(queryset.order_by(*order_by).values_list("pk", flat=True))
    whole = RangeQuerySetWrapper(queryset, order_by=order_by, step=step, plan="merge")
    with CaptureQueriesContext(connection) as captured:
        rows = [row.pk for row in whole]

    assert whole.plan == "merge"
    assert rows == expected
    if connection.vendor == "postgresql" and COMPILED_PAGES:
        assert any("rangeqs_shares" in q["sql"] for q in captured.captured_queries)
    first = RangeQuerySetWrapper(queryset, order_by=order_by, step=step, plan="merge")
    partial = iter(first)
    head = [next(partial).pk for _ in range(min(stop, len(expected)))]
    resumed = RangeQuerySetWrapper(
        queryset, order_by=order_by, step=step + 7, after=first.cursor, plan="merge"
    )
    assert head + [row.pk for row in resumed] == expected


class MergeByKeysProperties(TestCase):
    @settings(max_examples=60, deadline=None)
    @given(
        runs=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 40)), max_size=30),
        listed=st.lists(st.integers(0, 13), min_size=1, max_size=12, unique=True),
        step=st.integers(1, 60),
        descending=st.booleans(),
        stop=st.integers(0, 200),
        grouped=st.booleans(),
    )
    def test_merge_pages_yield_djangos_rows_whatever_runs_the_values_come_in(
        self,
        *,
        runs: list[tuple[int, int]],
        listed: list[int],
        step: int,
        descending: bool,
        stop: int,
        grouped: bool,
    ) -> None:
        make_runs(runs)
        order_by = ("-id",) if descending else ("id",)
        queryset = PlanRow.objects.filter(group_id__in=listed)
        if grouped:
            # Grouped by its rows: keys from the rows ungrouped.
            queryset = queryset.annotate(rows=Count("id"))
        assert_merge_walks_yield(queryset, order_by, step=step, stop=stop)

    @settings(max_examples=40, deadline=None)
    @given(
        runs=st.lists(
            st.tuples(
                st.sampled_from(["a", "A", "b", "B", "ab", "aB", "c"]),
                st.integers(1, 30),
            ),
            max_size=20,
        ),
        listed=st.lists(
            st.sampled_from(["a", "A", "b", "ab", "AB", "c", "cc", "abcdef"]),
            min_size=1,
            max_size=6,
            unique=True,
        ),
        step=st.integers(1, 40),
        descending=st.booleans(),
        stop=st.integers(0, 150),
    )
    def test_merge_pages_of_a_text_column_yield_djangos_rows_under_its_collation(
        self,
        runs: list[tuple[str, int]],
        listed: list[str],
        step: int,
        descending: bool,
        stop: int,
    ) -> None:
        # Case-insensitive where the database has such a collation: values
        # the column finds equal ("a" and "A") are one class of rows.
        ExactRow.objects.bulk_create(
            ExactRow(code=code) for code, count in runs for _ in range(count)
        )
        order_by = ("-id",) if descending else ("id",)
        assert_merge_walks_yield(
            ExactRow.objects.filter(code__in=listed), order_by, step=step, stop=stop
        )

    @settings(max_examples=50, deadline=None)
    @given(
        runs=st.lists(
            st.tuples(st.integers(1, 8), st.integers(1, 30), st.integers(0, 3)),
            max_size=20,
        ),
        listed=st.lists(st.integers(0, 9), min_size=1, max_size=8, unique=True),
        step=st.integers(1, 40),
        descending=st.booleans(),
        stop=st.integers(0, 150),
    )
    def test_merge_pages_by_compound_keys_yield_djangos_rows(
        self,
        runs: list[tuple[int, int, int]],
        listed: list[int],
        step: int,
        descending: bool,
        stop: int,
    ) -> None:
        # ``seen`` grows along the rows in steps of 0 to 3: equal values in
        # a run and across groups, so that the primary key breaks ties.
        rows: list[SeenRow] = []
        seen = 0
        for group, count, pace in runs:
            for _ in range(count):
                rows.append(SeenRow(group_id=group, seen=seen))
                seen += pace
        SeenRow.objects.bulk_create(rows)
        order_by = ("-seen", "-id") if descending else ("seen", "id")
        assert_merge_walks_yield(
            SeenRow.objects.filter(group_id__in=listed), order_by, step=step, stop=stop
        )

    @settings(max_examples=50, deadline=None)
    @given(
        runs=st.lists(
            st.tuples(
                st.integers(1, 8),
                st.integers(1, 30),
                st.integers(0, 3),
                st.sampled_from([None, 0, 1, 2]),
            ),
            max_size=20,
        ),
        listed=st.lists(st.integers(0, 9), min_size=1, max_size=8, unique=True),
        step=st.integers(1, 40),
        order_by=st.sampled_from(
            [
                ("-seen", "id"),
                ("seen", "-id"),
                ("-seen", "hit", "id"),
                ("seen", "-hit", "-id"),
            ]
        ),
        stop=st.integers(0, 150),
    )
    def test_merge_pages_by_keys_of_mixed_directions_or_nulls_yield_djangos_rows(
        self,
        runs: list[tuple[int, int, int, int | None]],
        listed: list[int],
        step: int,
        order_by: tuple[str, ...],
        stop: int,
    ) -> None:
        # A run's rows share a hit, NULL or not, and ``seen`` grows along
        # them in steps of 0 to 3: ties on (seen, hit) that the primary key
        # breaks, NULLs among them.
        rows: list[MixedSeenRow] = []
        seen = 0
        for group, count, pace, hit in runs:
            for _ in range(count):
                rows.append(MixedSeenRow(group_id=group, seen=seen, hit=hit))
                seen += pace
        MixedSeenRow.objects.bulk_create(rows)
        assert_merge_walks_yield(
            MixedSeenRow.objects.filter(group_id__in=listed),
            order_by,
            step=step,
            stop=stop,
        )
