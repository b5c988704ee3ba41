"""The live verdict: statically served, but not by the planner (issue 10).

The data (tests/testapp/models/bounded.py) has a tenant filter correlated
with the IN column, skewed per vendor so that each planner's estimate for a
plain keyset page is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection

from rangeqs import InvalidQuerySetError
from rangeqs.advisor import advise, check_index
from rangeqs.testing import assert_index_serves
from tests.testapp.models import BoundedRow
from tests.testapp.models.bounded import make_tenant

if TYPE_CHECKING:
    from django.db.models import QuerySet

pytestmark = pytest.mark.django_db(transaction=True)

ORDER = ("group_id", "id")


@pytest.fixture
def tenant() -> QuerySet[BoundedRow]:
    return make_tenant()


def test_a_correlated_tenant_filter_is_served_statically_but_not_by_the_planner(
    tenant: QuerySet[BoundedRow], vendor: str
) -> None:
    report = advise(tenant, order_by=ORDER)

    live = report.verify_planner(analyze=vendor == "postgresql")

    assert report.served
    assert live.served_statically
    assert live.index_name == "bounded_row_group_id"
    assert not live.served_by_planner
    codes = {finding.code for finding in live.findings}
    assert codes & {"sorts", "other-index", "filter-index"}
    assert {finding.position for finding in live.findings} <= {"start", "middle", "end"}
    if vendor == "postgresql":
        sorted_at = [f for f in live.findings if f.code == "sorts"]
        # The misestimate itself: far fewer rows expected than found.
        assert any(
            f.estimated_rows is not None
            and f.actual_rows is not None
            and f.estimated_rows * 2 < f.actual_rows
            for f in sorted_at
        )
        assert [fix.code for fix in live.fixes] == [
            "create-statistics",
            "planner-settings",
        ]
        assert "(dependencies)" in live.fixes[0].sql
    else:
        assert [fix.code for fix in live.fixes] == ["hint"]
        hint = "INDEXED BY" if vendor == "sqlite" else "FORCE INDEX"
        assert hint in live.fixes[0].sql
    assert live.pages_guarded
    assert "NOT SERVED by the live planner" in str(live)
    assert live.as_dict()["findings"]


def test_the_recommended_statistics_correct_postgresqls_estimates(
    tenant: QuerySet[BoundedRow], vendor: str
) -> None:
    if vendor != "postgresql":
        pytest.skip("extended statistics are PostgreSQL's")
    before = advise(tenant, order_by=ORDER).verify_planner()
    fix = before.fixes[0]
    with connection.cursor() as cursor:
        for statement in fix.sql.split("; "):
            cursor.execute(statement)

    after = advise(tenant, order_by=ORDER).verify_planner()

    # Better estimates, fewer sorting positions; where the planner still
    # sorts, only the settings are left to recommend.
    sorting = [f.position for f in before.findings if f.code == "sorts"]
    still = [f.position for f in after.findings if f.code == "sorts"]
    assert len(still) < len(sorting)
    assert "create-statistics" not in [fix.code for fix in after.fixes]


def test_an_uncorrelated_walk_is_served_by_the_planner_too(
    tenant: QuerySet[BoundedRow],
) -> None:
    listed = sorted(set(tenant.values_list("group_id", flat=True)))
    queryset = BoundedRow.objects.filter(group_id__in=listed)

    live = advise(queryset, order_by=ORDER).verify_planner()

    assert live.served_by_planner, str(live)
    assert live.findings == ()
    assert "SERVED, by the planner too" in str(live)


def test_check_index_with_verify_reports_the_live_planner(
    tenant: QuerySet[BoundedRow], caplog: pytest.LogCaptureFixture
) -> None:
    check_index(tenant, order_by=ORDER, mode="error")  # statically served

    with pytest.raises(InvalidQuerySetError, match="bounded_row_group_id serves"):
        check_index(tenant, order_by=ORDER, mode="error", verify=True)
    with caplog.at_level("WARNING", logger="rangeqs"):
        check_index(tenant, order_by=ORDER, mode=True, verify=True)
    assert "NOT SERVED by the live planner" in caplog.text


def test_assert_index_serves_with_verify_fails_on_the_live_planner(
    tenant: QuerySet[BoundedRow],
) -> None:
    assert_index_serves(tenant, order_by=ORDER)

    with pytest.raises(AssertionError, match="live planner"):
        assert_index_serves(tenant, order_by=ORDER, verify=True)


def test_a_sort_of_the_last_pages_rows_is_not_a_finding(
    tenant: QuerySet[BoundedRow], vendor: str
) -> None:
    """At the end of a walk only a page of rows is left: a planner that
    sorts what the keyset bound leaves on the serving index sorts one page,
    and calling that unserved made the verdict flip on a 2% cost margin."""
    if vendor != "postgresql":
        pytest.skip("only PostgreSQL can be told to prefer bitmap scans")
    listed = sorted(set(tenant.values_list("group_id", flat=True)))
    queryset = BoundedRow.objects.filter(group_id__in=listed)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = off")
    try:
        live = advise(queryset, order_by=ORDER).verify_planner()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_indexscan")

    assert all(plan.sorts for _, plan in live.plans)
    assert {(f.code, f.position) for f in live.findings} == {
        ("sorts", "start"),
        ("sorts", "middle"),
    }
    assert not live.served_by_planner
