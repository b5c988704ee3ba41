"""Long IN lists: one parameter, any length, the index still used."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from rangeqs._inlist import InValues, rewrite_in_lists
from tests.plans.helpers import explain, make_rows, make_tags
from tests.testapp.models import PlanRow, PlanTag

pytestmark = pytest.mark.django_db

HUNDRED_THOUSAND = 100_000


def test_hundred_thousand_values_are_one_parameter_and_match_the_listed_rows() -> None:
    make_rows({1: 3, 50_000: 2, 99_999: 1, 200_000: 4})
    values = list(range(HUNDRED_THOUSAND))
    queryset = rewrite_in_lists(PlanRow.objects.filter(group_id__in=values))

    _, params = queryset.query.sql_with_params()
    groups = sorted(queryset.values_list("group_id", flat=True))

    assert len(params) == 1
    assert groups == [1, 1, 1, 50_000, 50_000, 99_999]


def test_short_lists_keep_djangos_in() -> None:
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])

    assert rewrite_in_lists(queryset) is queryset


def test_rewrite_keeps_the_other_filters() -> None:
    make_rows({1: 2, 2: 2}, project_id=7)
    make_rows({1: 3}, project_id=8)
    queryset = PlanRow.objects.filter(project_id=7, group_id__in=range(1, 2000))

    rewritten = rewrite_in_lists(queryset)

    assert rewritten.count() == 4
    assert any(isinstance(child, InValues) for child in rewritten.query.where.children)


def test_nulls_and_repeats_in_the_list_are_ignored() -> None:
    make_rows({5: 2})
    values: list[Any] = [5, None, 5, *range(10_000, 12_000)]

    queryset = rewrite_in_lists(PlanRow.objects.filter(group_id__in=values))

    assert queryset.count() == 2


def test_a_list_inside_an_or_is_left_alone() -> None:
    queryset = PlanRow.objects.filter(Q(group_id__in=range(2000)) | Q(project_id=1))

    assert rewrite_in_lists(queryset) is queryset


def test_text_values_match_under_the_columns_collation(vendor: str) -> None:
    make_tags(["apple", "Apple", "banana"])
    values = ["APPLE", *(f"x{n}" for n in range(2000))]

    queryset = rewrite_in_lists(PlanTag.objects.filter(tag__in=values))

    expected = {"apple", "Apple"} if _case_insensitive(vendor) else set()
    assert set(queryset.values_list("tag", flat=True)) == expected


def test_the_index_bounds_the_scan_of_a_long_list(vendor: str) -> None:
    make_rows(dict.fromkeys(range(1, 400), 2))
    queryset = rewrite_in_lists(
        PlanRow.objects.filter(group_id__in=range(2000)).values_list("id")
    )

    plan = explain(queryset)

    if vendor == "postgresql":
        assert "= ANY" in plan
        assert "Index" in plan
        assert "Seq Scan" not in plan
    elif vendor == "sqlite":
        assert "USING COVERING INDEX plans_row_group_id (group_id=?)" in plan
    else:
        assert "plans_row_group_id" in plan
        assert ":ALL:testapp_planrow:" not in plan


def test_one_query_per_evaluation() -> None:
    make_rows({3: 2})
    queryset = rewrite_in_lists(PlanRow.objects.filter(group_id__in=range(5000)))

    with CaptureQueriesContext(connection) as captured:
        list(queryset)

    assert len(captured) == 1


def _case_insensitive(vendor: str) -> bool:
    return vendor in ("sqlite", "mysql")
