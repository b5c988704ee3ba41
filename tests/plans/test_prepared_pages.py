"""Partition pages compiled once: same SQL text, the position as parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection

from rangeqs._plans.bounded import SETTINGS_COMMENT
from rangeqs.wrapper import RangeQuerySetWrapper
from tests.core.factories import EntryFactory, OwnerFactory
from tests.plans.helpers import make_rows
from tests.testapp.models import Entry, Owner, PlanRow

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.models import QuerySet
    from pytest_django import DjangoAssertNumQueries

pytestmark = pytest.mark.django_db


def _statements(run: Callable[[], object]) -> list[tuple[str, tuple[Any, ...]]]:
    """The SQL text and parameters of every statement ``run`` executes,
    but a guarded page's settings."""
    recorded: list[tuple[str, tuple[Any, ...]]] = []

    def record(
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if not sql.startswith(SETTINGS_COMMENT):
            recorded.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return recorded


def test_partition_pages_after_the_first_share_one_sql_text(vendor: str) -> None:
    if vendor != "postgresql":
        pytest.skip("Only PostgreSQL pages the IN list in one statement.")
    # No page starts past the middle of the list, which would cut it.
    make_rows({1: 6, 2: 5})
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=3)

    statements = _statements(lambda: list(wrapper))

    # 11 rows: three full pages and a short one.
    assert len(statements) == 4
    texts = {sql for sql, _ in statements[1:]}
    assert len(texts) == 1
    # The position travels as parameters, a new one for every page.
    positions = [params[-3:] for _, params in statements[1:]]
    assert len(set(positions)) == 3


@pytest.mark.parametrize(
    "shape",
    [
        lambda queryset: queryset,
        lambda queryset: queryset.values("hash", "group_id"),
        lambda queryset: queryset.values_list("hash", "id"),
        lambda queryset: queryset.values_list("id", flat=True),
        lambda queryset: queryset.values_list("id", "hash", named=True),
        lambda queryset: queryset.only("id"),
    ],
    ids=["models", "values", "values_list", "flat", "named", "only"],
)
def test_partition_pages_keep_the_callers_row_shape(
    shape: Callable[[QuerySet[PlanRow]], QuerySet[Any, Any]],
) -> None:
    make_rows({1: 4, 2: 4, 3: 4})
    queryset = shape(PlanRow.objects.filter(group_id__in=[1, 3]))
    expected = list(queryset.order_by("group_id", "id"))

    rows = list(
        RangeQuerySetWrapper(
            queryset, order_by=("group_id", "id"), step=3, plan="partition"
        )
    )

    assert rows == expected


def test_plain_pages_after_the_first_share_one_sql_text() -> None:
    make_rows({1: 4, 2: 4, 3: 3})
    queryset = PlanRow.objects.filter(project_id=1)
    expected = list(queryset.order_by("group_id", "id"))
    wrapper = RangeQuerySetWrapper(
        queryset, order_by=("group_id", "id"), step=3, plan="plain"
    )
    rows: list[PlanRow] = []

    statements = _statements(lambda: rows.extend(wrapper))

    assert rows == expected
    assert len(statements) == 4
    assert len({sql for sql, _ in statements[1:]}) == 1


def _owner(entry: Entry) -> Owner:
    assert entry.owner is not None
    return entry.owner


def test_prepared_pages_keep_select_related_and_prefetch_related(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    owners = OwnerFactory.create_batch(2)
    for index in range(5):
        EntryFactory.create(owner=owners[index % 2], b=index % 3)
    queryset = Entry.objects.select_related("owner").prefetch_related(
        "owner__entry_set"
    )
    expected = [
        (entry.pk, _owner(entry).name) for entry in queryset.order_by("b", "pk")
    ]
    per_owner = {owner.pk: owner.entry_set.count() for owner in owners}

    # Five rows in pages of 2: three pages, each one query and one prefetch.
    with django_assert_num_queries(6):
        rows = list(
            RangeQuerySetWrapper(queryset, order_by=("b", "pk"), step=2, plan="plain")
        )
        loaded = [(entry.pk, _owner(entry).name) for entry in rows]
        siblings = [len(_owner(entry).entry_set.all()) for entry in rows]

    assert loaded == expected
    assert siblings == [per_owner[_owner(entry).pk] for entry in rows]
