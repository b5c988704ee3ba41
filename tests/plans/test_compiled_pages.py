"""Compiled pages and their fallback of ordinary querysets (rangeqs._django).

The observable: an ordinary queryset page of model instances selects the
keys as ``rangeqs_key_*`` columns (an instance may show what ``from_db()``
made of them); a compiled page reads them from the fetched values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rangeqs import RangeQuerySetWrapper, _django
from tests.plans.helpers import make_rows
from tests.testapp.models import PlanRow

if TYPE_CHECKING:
    from pytest_django.fixtures import SettingsWrapper  # type: ignore[attr-defined]

    from rangeqs._plans import PlanName

pytestmark = pytest.mark.django_db

ORDERS: dict[PlanName, tuple[str, ...]] = {
    "plain": ("project_id", "id"),
    "partition": ("group_id", "id"),
    "merge": ("id",),
}


def _walked(plan: PlanName, **kwargs: Any) -> tuple[list[int], list[str]]:
    """The walk's row ids and the SQL of its statements."""
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    wrapper = RangeQuerySetWrapper(
        queryset, order_by=ORDERS[plan], step=4, plan=plan, **kwargs
    )
    with CaptureQueriesContext(connection) as captured:
        ids = [row.pk for row in wrapper]
    return ids, [query["sql"] for query in captured.captured_queries]


def _expected(plan: PlanName) -> list[int]:
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    return list(queryset.order_by(*ORDERS[plan]).values_list("pk", flat=True))


def _ordinary(statements: list[str]) -> bool:
    return any("rangeqs_key_" in sql for sql in statements)


@pytest.mark.parametrize("plan", list(ORDERS))
def test_the_setting_read_when_the_walk_starts_forces_ordinary_querysets(
    settings: SettingsWrapper, plan: PlanName
) -> None:
    make_rows({1: 5, 2: 3, 3: 6})
    settings.RANGEQS_COMPILED_PAGES = True
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    wrapper = RangeQuerySetWrapper(queryset, order_by=ORDERS[plan], step=4, plan=plan)
    settings.RANGEQS_COMPILED_PAGES = False

    with CaptureQueriesContext(connection) as captured:
        ids = [row.pk for row in wrapper]

    assert ids == _expected(plan)
    assert _ordinary([query["sql"] for query in captured.captured_queries])


@pytest.mark.parametrize("plan", list(ORDERS))
def test_compiled_pages_read_the_keys_from_the_fetched_values(
    settings: SettingsWrapper, plan: PlanName
) -> None:
    make_rows({1: 5, 2: 3, 3: 6})
    settings.RANGEQS_COMPILED_PAGES = True

    ids, statements = _walked(plan)

    assert ids == _expected(plan)
    assert not _ordinary(statements)


@pytest.mark.parametrize("plan", list(ORDERS))
def test_a_failing_self_check_selects_ordinary_querysets_and_stays_exact(
    settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch, plan: PlanName
) -> None:
    # A Django release outside the tested range whose private API changed.
    make_rows({1: 9, 2: 1, 3: 7})
    settings.RANGEQS_COMPILED_PAGES = True
    monkeypatch.setattr(_django.query, "TESTED_DJANGO", frozenset())

    with _django.self_check_fails():
        ids, statements = _walked(plan)

    assert ids == _expected(plan)
    assert _ordinary(statements)


@pytest.mark.parametrize("plan", list(ORDERS))
def test_outside_the_tested_range_a_passing_self_check_compiles(
    settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch, plan: PlanName
) -> None:
    make_rows({1: 9, 2: 1, 3: 7})
    settings.RANGEQS_COMPILED_PAGES = True
    monkeypatch.setattr(_django.query, "TESTED_DJANGO", frozenset())
    monkeypatch.setattr(_django.pages, "_checked", {})

    ids, statements = _walked(plan)

    assert ids == _expected(plan)
    assert not _ordinary(statements)


def test_the_self_check_holds_on_this_django_and_database() -> None:
    queryset = PlanRow.objects.all()

    with CaptureQueriesContext(connection) as captured:
        assert _django.self_check(queryset)
        with _django.self_check_fails():
            assert not _django.self_check(queryset)

    # It compiles, it never queries.
    assert captured.captured_queries == []
