"""The walk: the plan of each NULL phase, and the statements it counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rangeqs import RangeQuerySetWrapper
from tests.core.factories import EntryFactory
from tests.plans.helpers import make_rows, row_statements
from tests.testapp.models import Entry, PlanRow

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from rangeqs._plans import PlanName

pytestmark = pytest.mark.django_db


def _nulls_first() -> bool:
    return not connection.features.nulls_order_largest


def test_plans_name_the_plan_of_each_null_phase_in_the_order_walked() -> None:
    # Where a is NULL the rows are ordered by id alone, the IN list's column:
    # auto walks them value by value; where it is set, the IN list is off
    # the leading key and the pk serves each value's branch.
    entries = [EntryFactory.create(a=a) for a in (2, None, 1, None, 2)]
    queryset = Entry.objects.filter(pk__in=[entry.pk for entry in entries])

    wrapper = RangeQuerySetWrapper(queryset, order_by=("a", "id"), step=2)
    yielded = [entry.pk for entry in wrapper]

    null_phase, set_phase = "partition", "merge"
    expected = (null_phase, set_phase) if _nulls_first() else (set_phase, null_phase)
    assert wrapper.plans == expected
    assert wrapper.plan == set_phase
    assert yielded == list(queryset.order_by("a", "id").values_list("id", flat=True))


def test_plans_leave_out_the_phases_the_filters_exclude() -> None:
    queryset = Entry.objects.filter(a__in=[1, 2])

    wrapper = RangeQuerySetWrapper(queryset, order_by=("a", "id"))

    assert wrapper.plans == ("plain",)


def test_an_explicit_plan_fetches_every_phase() -> None:
    entries = [EntryFactory.create(a=a, b=b) for a, b in [(1, 1), (None, 2), (2, 1)]]
    queryset = Entry.objects.filter(b__in=[1, 2])

    wrapper = RangeQuerySetWrapper(queryset, order_by=("a", "id"), plan="merge")

    assert wrapper.plans == ("merge", "merge")
    assert sorted(entry.pk for entry in wrapper) == sorted(e.pk for e in entries)


@pytest.mark.parametrize(
    ("plan", "order_by", "length"),
    [
        ("plain", "id", 3),
        ("merge", "id", 3),
        ("partition", ("group_id", "id"), 3),
        ("partition", ("group_id", "id"), 1500),
        ("auto", "id", 1500),
    ],
)
def test_queries_counts_every_statement_the_walk_runs(
    plan: PlanName, order_by: str | tuple[str, ...], length: int
) -> None:
    make_rows({1: 5, 2: 1, 3: 4, 4: 2})
    queryset: QuerySet[PlanRow] = PlanRow.objects.filter(
        group_id__in=range(1, length + 1)
    )
    wrapper = RangeQuerySetWrapper(queryset, order_by=order_by, step=3, plan=plan)
    expected = list(queryset.order_by(*wrapper.order_by))
    wrapper.plans  # noqa: B018 - the facts it reads are not pages

    with CaptureQueriesContext(connection) as captured:
        assert list(wrapper) == expected

    assert wrapper.queries == len(row_statements(captured.captured_queries))


def test_a_page_that_needs_no_statement_counts_none() -> None:
    EntryFactory.create_batch(2)
    wrapper = RangeQuerySetWrapper(Entry.objects.filter(pk__in=[]))

    with CaptureQueriesContext(connection) as captured:
        assert list(wrapper) == []

    assert captured.captured_queries == []
    assert wrapper.queries == 0


def test_async_iteration_counts_the_statements_run_in_the_worker_thread() -> None:
    EntryFactory.create_batch(5)
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=2)

    async def collect() -> list[int]:
        return [entry.pk async for entry in wrapper]

    with CaptureQueriesContext(connection) as captured:
        assert len(async_to_sync(collect)()) == 5

    assert wrapper.queries == len(captured.captured_queries) == 3


def test_the_cursor_names_the_row_just_received_inside_and_across_pages() -> None:
    entries = EntryFactory.create_batch(5)
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=2)
    cursors = []
    for entry in wrapper:
        cursors.append(wrapper.cursor)
        entry.delete()  # the position comes from the fetched row, not the instance

    resumed = [
        [e.pk for e in RangeQuerySetWrapper(Entry.objects.all(), after=cursor)]
        for cursor in cursors
    ]
    assert resumed == [[] for _ in entries]
    assert len(set(cursors)) == 5
