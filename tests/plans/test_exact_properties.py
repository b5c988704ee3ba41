"""Differential test: the wrapper yields exactly Django's rows, whatever it renders.

Generated rows of :class:`ExactRow` (integers of three widths, text with a
length limit and a case-insensitive collation, a foreign key to a
case-insensitive text key, decimals, UUIDs, dates, datetimes, JSON),
filtered by an IN list on one column (short or longer than ``LONG_LIST``,
with repeats, NULL, values outside the column's range or longer than it,
values equal to stored ones only under the collation) and other filters;
walked under each plan that takes the order, at any step. Django's own
evaluation of the same queryset, ordered by the keys, is the answer.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rangeqs._inlist import LONG_LIST
from rangeqs._plans.merge import MERGE_MAX_VALUES
from rangeqs.wrapper import RangeQuerySetWrapper
from tests.testapp.models import ExactRow, TextParent

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.django_db

_UTC = datetime.timezone.utc
_UUIDS = [uuid.UUID(int=n) for n in (1, 2, 3 << 100)]
_DAYS = [
    datetime.date(2024, 1, 1),
    datetime.date(2024, 2, 29),
    datetime.date(1999, 12, 31),
]
_MOMENTS = [
    datetime.datetime(2024, 1, 1, 12, 0, tzinfo=_UTC),
    datetime.datetime(2024, 1, 1, 12, 0, 0, 1, tzinfo=_UTC),
    datetime.datetime(2030, 6, 1, tzinfo=_UTC),
]
_PARENTS = ["a", "b", "c"]


def _padding(make: Callable[[int], Any]) -> tuple[Any, ...]:
    """Values that match no stored row, enough to make any list long."""
    return tuple(make(n) for n in range(LONG_LIST + 1))


# Per column: values stored in rows, groups of values listed besides them
# (out of range, longer than the column, finer than it, or equal to another
# only under the collation, listed together), and the padding that makes a
# list long.
_PLUS_ONE_HOUR = datetime.timezone(datetime.timedelta(hours=1))
_NOT_SQLITE = django_settings.RANGEQS_TEST_DATABASE != "sqlite"

COLUMNS: dict[str, tuple[list[Any], list[tuple[Any, ...]], tuple[Any, ...]]] = {
    "small": (
        [-2, 0, 1, 7, 32_767],
        [(40_000, 7), (-40_000,), (32_768, 32_767)],
        _padding(lambda n: 1_000 + n),
    ),
    "positive": ([0, 1, 5], [(-1, 1), (-5,)], _padding(lambda n: 10_000 + n)),
    "big": (
        [0, 1, 2**40, -(2**63)],
        # SQLite's driver cannot send 2**63: Django's own IN raises there.
        [(2**40 + 1,), *([(2**63, 1)] if _NOT_SQLITE else [])],
        _padding(lambda n: 10**12 + n),
    ),
    "code": (
        ["a", "A", "ab", "abcde", "B"],
        [("abcdefgh",), ("AB", "ab"), ("b", "B"), ("abcde   ",), ("é",)],
        _padding(lambda n: f"x{n}"),
    ),
    "price": (
        [Decimal("1.23"), Decimal("2.50"), Decimal("0.00")],
        [(Decimal("1.234"),), (Decimal("2.5"),), (Decimal("1.225"), Decimal("0"))],
        _padding(lambda n: Decimal(5_000 + n)),
    ),
    "uid": (_UUIDS[:2], [(_UUIDS[2],)], _padding(lambda n: uuid.UUID(int=10**6 + n))),
    "day": (
        _DAYS[:2],
        [(_DAYS[2],)],
        _padding(lambda n: datetime.date(1900, 1, 1) + datetime.timedelta(days=n)),
    ),
    "moment": (
        _MOMENTS[:2],
        [(_MOMENTS[2],), (datetime.datetime(2024, 1, 1, 13, tzinfo=_PLUS_ONE_HOUR),)],
        _padding(
            lambda n: (
                datetime.datetime(1990, 1, 1, tzinfo=_UTC) + datetime.timedelta(hours=n)
            )
        ),
    ),
    "parent_id": (
        _PARENTS,
        [("A", "a"), ("C",), ("b", "B", "zz")],
        _padding(lambda n: f"p{n}"),
    ),
    "data": ([{"k": 1}, [1, 2], "x"], [({"k": 2},), ({"k": 1, "j": 0},)], ()),
}

OTHER_FILTERS = [
    Q(small__gte=0),
    Q(code="a") | Q(big=1),
    ~Q(positive=5),
    Q(parent__code__in=["a", "B"]),
    Q(day__lt=_DAYS[1]) | Q(day__isnull=True),
    Q(price__range=(Decimal("0.50"), Decimal("3"))),
]


@st.composite
def rows_of(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rows with a value for every column, collisions likely."""
    rows = []
    for _ in range(draw(st.integers(3, 9))):
        row = {}
        for name, (stored, _, _) in COLUMNS.items():
            row[name] = draw(st.sampled_from([None, *stored]))
        rows.append(row)
    return rows


@st.composite
def listed_values(draw: st.DrawFn, column: str, *, long: bool) -> list[Any]:
    stored, edges, padding = COLUMNS[column]
    values = draw(st.lists(st.sampled_from([*stored, None]), min_size=1, max_size=5))
    # Text listed in another case: equal to stored text only under the
    # column's collation, and sorted elsewhere by a binary comparison.
    values = [
        value.swapcase() if isinstance(value, str) and draw(st.booleans()) else value
        for value in values
    ]
    # The edge values are what a rendering gets wrong: list some most times.
    if draw(st.integers(0, 3)):
        values += draw(st.sampled_from(edges))
    if long and padding:
        values += padding
    return values


@st.composite
def orders(draw: st.DrawFn, column: str, plan: str) -> tuple[str, ...]:
    descending = draw(st.booleans())
    sign = "-" if descending else ""
    tie = draw(st.sampled_from(["id", "-id"]))
    if plan == "partition" or (
        plan != "merge" and column != "data" and draw(st.booleans())
    ):
        return (f"{sign}{column}", tie)
    return (f"{sign}id",)


def _plans(column: str, *, long: bool) -> list[str]:
    if column == "data":
        return ["auto", "plain"]
    plans = ["auto", "plain", "partition"]
    if not long:
        plans.append("merge")
    return plans


@pytest.mark.parametrize(
    ("column", "long"),
    [(column, False) for column in COLUMNS]
    + [(column, True) for column, (_, _, padding) in COLUMNS.items() if padding],
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_plan_yields_djangos_rows_for_an_in_list_of_any_type(
    column: str, *, long: bool, data: st.DataObject
) -> None:
    rows = data.draw(rows_of(), label="rows")
    listed = data.draw(listed_values(column, long=long), label="listed")
    if not long:
        assert len(set(map(repr, listed))) <= MERGE_MAX_VALUES
    plan = data.draw(st.sampled_from(_plans(column, long=long)), label="plan")
    order_by = data.draw(orders(column, plan), label="order_by")
    # Half the examples keep every row the list matches.
    others = data.draw(st.just(Q()) | st.sampled_from(OTHER_FILTERS), label="others")
    step = data.draw(st.integers(1, 5), label="step")

    ExactRow.objects.all().delete()
    TextParent.objects.all().delete()
    TextParent.objects.bulk_create(TextParent(code=code) for code in _PARENTS)
    ExactRow.objects.bulk_create(ExactRow(**row) for row in rows)
    queryset = (
        ExactRow.objects.filter(**{f"{column}__in": listed})
        .filter(others)
        .values_list("id", column)
    )

    wrapper = RangeQuerySetWrapper(
        queryset,
        order_by=order_by,
        step=step,
        plan=plan,  # type: ignore[arg-type]
    )
    expected = list(queryset.order_by(*wrapper.order_by))
    bound = 2 * len(expected) + 2
    yielded = []
    for row in wrapper:
        yielded.append(row)
        if len(yielded) > bound:
            break

    assert yielded == expected, (connection.vendor, wrapper.plan)
