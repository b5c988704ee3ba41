"""Property test: merge pages yield Django's rows however the values cluster.

On PostgreSQL a merge page ordered by the primary key reads a share of each
listed value's keys from the serving index, keeps those up to the nearest
last key of a value that filled its share, and takes a whole page of keys
of each value when those fall short (``MergePlan._prepare_bounded_keys``).
Rows in runs of one group, of any length, make every case: values that
interleave, values that come first or last, values with fewer rows than
their share, listed values with no rows. Django's own evaluation of the
same queryset, ordered by ``id``, is the answer, on every database.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rangeqs import RangeQuerySetWrapper
from tests.compiled_pages import COMPILED_PAGES
from tests.plans.helpers import make_runs
from tests.testapp.models import PlanRow


class MergeByKeysProperties(TestCase):
    @settings(max_examples=60, deadline=None)
    @given(
        runs=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 40)), max_size=30),
        listed=st.lists(st.integers(0, 13), min_size=1, max_size=12, unique=True),
        step=st.integers(1, 60),
        descending=st.booleans(),
        stop=st.integers(0, 200),
    )
    def test_merge_pages_yield_djangos_rows_whatever_runs_the_values_come_in(
        self,
        runs: list[tuple[int, int]],
        listed: list[int],
        step: int,
        descending: bool,
        stop: int,
    ) -> None:
        make_runs(runs)
        queryset = PlanRow.objects.filter(group_id__in=listed)
        order_by = "-id" if descending else "id"
        expected = list(queryset.order_by(order_by).values_list("pk", flat=True))

        whole = RangeQuerySetWrapper(
            queryset, order_by=order_by, step=step, plan="merge"
        )
        with CaptureQueriesContext(connection) as captured:
            rows = [row.pk for row in whole]

        assert whole.plan == "merge"
        assert rows == expected
        if connection.vendor == "postgresql" and COMPILED_PAGES:
            assert any(
                "rangeqs_shares" in query["sql"] for query in captured.captured_queries
            )
        # Resumed anywhere, at another step, the walk goes on where it stopped.
        first = RangeQuerySetWrapper(
            queryset, order_by=order_by, step=step, plan="merge"
        )
        partial = iter(first)
        head = [next(partial).pk for _ in range(min(stop, len(expected)))]
        resumed = RangeQuerySetWrapper(
            queryset, order_by=order_by, step=step + 7, after=first.cursor, plan="merge"
        )
        assert head + [row.pk for row in resumed] == expected
