"""Positions are points of the database's own order, whatever form a value
was stored in (issue 9, defect 11).

SQLite keeps a value as a statement wrote it; Django converts it on the way
out (rounds a Decimal to ``decimal_places``, parses a datetime written with a
``T``), and a position rebuilt from the converted value skipped rows or
returned the same page forever. The other databases convert on write: there
the same tests check that the rows are Django's.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import connection

from rangeqs import RangeQuerySetWrapper
from rangeqs.exceptions import PositionNotAdvancingError
from tests.testapp.models import TypedKey

pytestmark = pytest.mark.django_db

TABLE = TypedKey._meta.db_table
# Far more than the rows: an endless walk stops here and fails the test.
ENOUGH = 50


def insert_raw(column: str, values: list[str]) -> None:
    """Write values with SQL of our own, as a migration or another program may."""
    with connection.cursor() as cursor:
        for value in values:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(TABLE)} "
                f"({connection.ops.quote_name(column)}) VALUES (%s)",
                [value],
            )


def walk(queryset: Any, **options: Any) -> list[Any]:
    rows = itertools.islice(RangeQuerySetWrapper(queryset, **options), ENOUGH)
    return [
        row if isinstance(row, int) else row["pk"] if isinstance(row, dict) else row.pk
        for row in rows
    ]


def django_order(queryset: Any, *order_by: str) -> list[int]:
    return list(queryset.order_by(*order_by).values_list("pk", flat=True))


# Finer than decimal_places=4: the converted values of the first three tie.
DECIMALS = ["1.12346", "1.123456", "1.123457", "1.1234", "2.5", "7"]
# Django writes "YYYY-MM-DD HH:MM:SS"; a "T" sorts after the space on SQLite.
DATETIMES = [
    "2024-01-01T10:00:00",
    "2024-01-01 11:00:00",
    "2024-01-01 09:00:00",
    "2024-01-01T09:30:00",
    "2024-01-02 00:00:00",
]


@pytest.mark.parametrize("step", [1, 2])
def test_finer_decimals_than_the_field_are_neither_skipped_nor_repeated(
    step: int,
) -> None:
    insert_raw("amount", DECIMALS)
    queryset = TypedKey.objects.filter(amount__isnull=False)
    expected = django_order(queryset, "amount", "id")
    options = {"order_by": "amount", "override_unique_safety_check": True}
    assert walk(queryset, step=step, **options) == expected
    assert walk(queryset.values_list("pk", flat=True), step=step, **options) == expected


@pytest.mark.parametrize("step", [1, 2])
@pytest.mark.parametrize("descending", [False, True])
def test_datetimes_in_another_text_form_come_in_the_database_order(
    step: int, descending: bool
) -> None:
    insert_raw("moment", DATETIMES)
    queryset = TypedKey.objects.filter(moment__isnull=False)
    order = ("-moment", "-id") if descending else ("moment", "id")
    expected = django_order(queryset, *order)
    options = {"order_by": order}
    assert walk(queryset, step=step, **options) == expected
    assert walk(queryset.values("pk", "moment"), step=step, **options) == expected


def test_a_cursor_resumes_after_a_value_in_another_form() -> None:
    insert_raw("moment", DATETIMES)
    queryset = TypedKey.objects.filter(moment__isnull=False)
    expected = django_order(queryset, "moment", "id")
    first = RangeQuerySetWrapper(queryset, step=1, order_by=("moment", "id"))
    # The fourth row in the database's order is the first written with a "T".
    head = [row.pk for row in itertools.islice(first, 4)]
    assert first.cursor is not None
    rest = walk(queryset, step=2, order_by=("moment", "id"), after=first.cursor)
    assert head + rest == expected


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite keeps a value as written"
)
def test_a_getter_whose_values_cannot_advance_raises_instead_of_looping() -> None:
    # The getter returns Django's converted datetime: bound again, it sorts
    # before the row it came from, and the page would start there forever.
    insert_raw("moment", ["2024-01-01T10:00:00", "2024-01-01T10:00:01"])
    queryset = TypedKey.objects.values_list("moment", "id")
    wrapper = RangeQuerySetWrapper(
        queryset,
        step=2,
        order_by=("moment", "id"),
        result_value_getter=lambda row: row,
    )
    with pytest.raises(PositionNotAdvancingError, match="came back"):
        for _ in itertools.islice(wrapper, ENOUGH):
            pass
