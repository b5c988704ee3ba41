"""The SQL that the plans render themselves matches exactly what Django's does.

One test per way it did not (issue 9): a column name taken for an attname,
text values equal under the column's collation but not in Python, casts
and JSON column types that turn a listed value into another, and values
that have no exact rendering at all.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings as django_settings

from rangeqs._inlist import LONG_LIST
from rangeqs.exceptions import InvalidQuerySetError
from rangeqs.wrapper import RangeQuerySetWrapper
from tests.testapp.models import ExactRow, LegacyKeyRow, TextParent

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from rangeqs._plans import PlanName

pytestmark = pytest.mark.django_db

needs_case_insensitive_text = pytest.mark.skipif(
    django_settings.RANGEQS_TEST_DATABASE == "postgresql18",
    reason="The embedded PostgreSQL 18 is built without ICU, so it has no "
    "nondeterministic collation; PostgreSQL 15 runs this one.",
)


def walked(
    queryset: QuerySet[Any, Any], *, order_by: str | tuple[str, ...], **options: Any
) -> list[Any]:
    """The wrapper's rows, cut off past twice Django's count: a loop shows as
    repeated rows instead of hanging the test."""
    bound = 2 * queryset.count() + 2
    wrapper = RangeQuerySetWrapper(queryset, order_by=order_by, **options)
    return list(itertools.islice(wrapper, bound))


def djangos(queryset: QuerySet[Any, Any], *order_by: str) -> list[Any]:
    return list(queryset.order_by(*order_by))


_SHORT, _LONG = 2, LONG_LIST + 1


@pytest.mark.parametrize(
    ("plan", "order_by", "length"),
    [
        ("merge", ("key",), _SHORT),
        ("merge", ("-key",), _SHORT),
        *(
            (plan, order_by, length)
            for plan, order_by in [
                ("partition", ("score", "key")),
                ("partition", ("-score", "key")),
                ("auto", ("key",)),
                ("auto", ("score", "key")),
            ]
            for length in (_SHORT, _LONG)
        ),
    ],
)
@pytest.mark.parametrize("step", [1, 2, 3])
def test_every_plan_pages_over_columns_whose_names_are_not_their_attnames(
    plan: PlanName, order_by: tuple[str, ...], length: int, step: int
) -> None:
    LegacyKeyRow.objects.bulk_create(
        LegacyKeyRow(key=key, score=key % 3) for key in range(1, 13)
    )
    listed = [1, 2, *range(100, 100 + length - 2)]
    queryset = LegacyKeyRow.objects.filter(score__in=listed).values_list(
        "key", flat=True
    )

    rows = walked(queryset, order_by=order_by, step=step, plan=plan)

    assert rows == djangos(queryset, *order_by)


def _children(codes: list[str]) -> None:
    parents = {code.lower() for code in codes}
    TextParent.objects.bulk_create(TextParent(code=code) for code in sorted(parents))
    ExactRow.objects.bulk_create(ExactRow(parent_id=code.lower()) for code in codes)


TWELVE_CHILDREN = ["a", "b", "c", "a", "c", "b", "a", "c", "a", "b", "c", "a"]


@needs_case_insensitive_text
@pytest.mark.parametrize(
    ("plan", "order_by"),
    [
        ("merge", ("id",)),
        ("auto", ("id",)),
        ("partition", ("parent_id", "id")),
        ("partition", ("-parent_id", "-id")),
        ("auto", ("parent_id", "id")),
    ],
)
@pytest.mark.parametrize("step", [1, 2, 5])
def test_text_keys_behind_a_foreign_key_compare_under_the_targets_collation(
    plan: PlanName, order_by: tuple[str, ...], step: int
) -> None:
    _children(TWELVE_CHILDREN)
    queryset = ExactRow.objects.filter(parent_id__in=["a", "A", "C"]).values_list(
        "parent_id", "id"
    )
    expected = djangos(queryset, *order_by)
    assert len(expected) == 9

    rows = walked(queryset, order_by=order_by, step=step, plan=plan)

    assert rows == expected


@needs_case_insensitive_text
@pytest.mark.parametrize("order_by", [("parent_id", "id"), ("id",)])
def test_a_long_text_list_behind_a_foreign_key_yields_each_row_once(
    order_by: tuple[str, ...],
) -> None:
    _children(TWELVE_CHILDREN)
    listed = ["C", "a", "A", *(f"x{n}" for n in range(LONG_LIST + 100))]
    queryset = ExactRow.objects.filter(parent_id__in=listed).values_list("id")

    rows = walked(queryset, order_by=order_by, step=2)

    assert rows == djangos(queryset, *order_by)


@pytest.mark.parametrize("plan", ["partition", "plain"])
def test_a_listed_text_longer_than_the_column_matches_no_row(plan: PlanName) -> None:
    ExactRow.objects.bulk_create(ExactRow(code=code) for code in ["abcde", "b", "c"])
    listed = ["abcdefgh", "c", *(f"x{n}" for n in range(LONG_LIST))]
    queryset = ExactRow.objects.filter(code__in=listed).values_list("code", "id")

    rows = walked(queryset, order_by=("code", "id"), step=1, plan=plan)

    assert [code for code, _ in rows] == ["c"]
    assert rows == djangos(queryset, "code", "id")


@pytest.mark.parametrize("plan", ["partition", "plain"])
def test_a_listed_decimal_finer_than_the_column_matches_no_row(plan: PlanName) -> None:
    ExactRow.objects.bulk_create(
        ExactRow(price=price) for price in [Decimal("1.23"), Decimal("2.50")]
    )
    listed = [Decimal("1.234"), Decimal("2.5"), *range(100, 100 + LONG_LIST)]
    queryset = ExactRow.objects.filter(price__in=listed).values_list("price", "id")

    rows = walked(queryset, order_by=("price", "id"), step=1, plan=plan)

    assert [price for price, _ in rows] == [Decimal("2.50")]
    assert rows == djangos(queryset, "price", "id")


@pytest.mark.parametrize("plan", ["partition", "plain"])
@pytest.mark.parametrize(
    ("column", "out_of_range"),
    [("small", 40_000), ("small", -40_000), ("positive", -1), ("big", 2**63)],
)
def test_a_listed_integer_outside_the_columns_range_matches_no_row(
    plan: PlanName, column: str, out_of_range: int
) -> None:
    ExactRow.objects.bulk_create(
        ExactRow(**{column: value}) for value in [0, 1, 7, 32_767]
    )
    listed = [out_of_range, 7, *range(1_000, 1_000 + LONG_LIST)]
    queryset = ExactRow.objects.filter(**{f"{column}__in": listed}).values_list(
        column, "id"
    )

    try:
        expected = djangos(queryset, column, "id")
    except OverflowError:
        # SQLite's driver cannot bind an integer past 64 bits: Django's own
        # IN raises, and so must the wrapper, not answer something else.
        with pytest.raises(OverflowError):
            walked(queryset, order_by=(column, "id"), step=1, plan=plan)
        return

    rows = walked(queryset, order_by=(column, "id"), step=1, plan=plan)

    assert [value for value, _ in rows] == [7]
    assert rows == expected


def test_a_negative_value_in_a_long_list_never_matches_an_unsigned_zero() -> None:
    ExactRow.objects.bulk_create(ExactRow(positive=value) for value in [0, 1, 1_499])
    listed = [-1, *range(1, 1_500)]
    queryset = ExactRow.objects.filter(positive__in=listed).values_list(
        "positive", flat=True
    )

    rows = walked(queryset, order_by="id", step=2)

    assert rows == [1, 1_499]


@pytest.mark.parametrize("plan", ["auto", "plain"])
def test_a_json_in_list_stays_djangos_own_in(plan: PlanName) -> None:
    ExactRow.objects.bulk_create(
        ExactRow(data=data) for data in [{"k": 1}, {"k": 2}, [1, 2], {"k": 1}]
    )
    queryset = ExactRow.objects.filter(data__in=[{"k": 1}, [1, 2]]).values_list(
        "id", flat=True
    )

    wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=1, plan=plan)

    assert wrapper.plan == "plain"
    assert list(wrapper) == djangos(queryset, "id")


@pytest.mark.parametrize(
    ("plan", "order_by"), [("merge", "id"), ("partition", ("data", "id"))]
)
def test_an_in_list_plan_refuses_values_it_cannot_render_exactly(
    plan: PlanName, order_by: str | tuple[str, ...]
) -> None:
    queryset = ExactRow.objects.filter(data__in=[{"k": 1}, {"k": 2}])

    with pytest.raises(InvalidQuerySetError, match="'data'"):
        RangeQuerySetWrapper(queryset, order_by=order_by, plan=plan)


def test_a_merge_branch_for_an_out_of_range_integer_leaves_the_others_alone() -> None:
    ExactRow.objects.bulk_create(ExactRow(small=value) for value in [1, 7, 7, 9])
    queryset = ExactRow.objects.filter(small__in=[40_000, 1, 7]).values_list(
        "id", "small"
    )

    rows = walked(queryset, order_by="id", step=2, plan="merge")

    assert rows == djangos(queryset, "id")
    assert len(rows) == 3
