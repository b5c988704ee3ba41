"""Where the wrapper reads each row's keys: from the model instance when it
holds them all, from extra selected columns otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rangeqs import RangeQuerySetWrapper
from tests.compiled_pages import compiled_only
from tests.core.factories import EntryFactory
from tests.testapp.models import Entry

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries

pytestmark = pytest.mark.django_db


@compiled_only
def test_model_rows_give_their_keys_without_selecting_them_again() -> None:
    for b in (2, 1, 2, 1, 3):
        EntryFactory.create(b=b)
    expected = list(Entry.objects.order_by("b", "pk"))

    with CaptureQueriesContext(connection) as captured:
        rows = list(
            RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=("b", "pk"))
        )

    assert rows == expected
    assert [row.b for row in rows] == [row.b for row in expected]
    assert not any("rangeqs_key" in query["sql"] for query in captured)


def test_rows_with_deferred_fields_select_their_keys(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for b in (2, 1, 2, 1, 3):
        EntryFactory.create(b=b)
    expected = list(Entry.objects.order_by("b", "pk").values_list("pk", flat=True))

    # Five rows in pages of 2: reading a deferred key would cost a query a row.
    with django_assert_num_queries(3):
        rows = list(
            RangeQuerySetWrapper(
                Entry.objects.only("word"), step=2, order_by=("b", "pk")
            )
        )

    assert [row.pk for row in rows] == expected
    assert all("b" in row.get_deferred_fields() for row in rows)
