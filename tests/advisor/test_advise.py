"""The static verdict for every index source and filter kind."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db.models import Q

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from rangeqs.advisor import advise, check_index
from rangeqs.examples.grouphash.models import GroupHash
from tests.testapp.models import AdvisedEvent, IndexedThing

pytestmark = pytest.mark.django_db

things = IndexedThing.objects
events = AdvisedEvent.objects


def test_unique_column_fixed_by_equality_orders_the_pk() -> None:
    report = advise(things.filter(serial="x"), order_by="id")
    assert report.served
    assert report.index_name is not None
    assert "serial unique=True" in report.reasons[0]


@pytest.mark.parametrize("lookup", ["bucket", "owner_id"])
def test_single_column_index_orders_the_pk_where_the_pk_is_appended(
    lookup: str, vendor: str
) -> None:
    report = advise(things.filter(**{lookup: 3}), order_by="id")
    # InnoDB appends the primary key to every index, SQLite the rowid.
    assert report.served is (vendor in {"mysql", "sqlite"})
    if vendor == "postgresql":
        assert report.needs_sort
        assert "ends before the keyset column(s) id" in report.reasons[0]


def test_unique_together_serves_its_second_column_then_the_pk() -> None:
    report = advise(things.filter(a=1), order_by=("b", "id"))
    assert report.served
    assert "unique_together" in report.reasons[0]


def test_unique_constraint_serves_its_second_column() -> None:
    report = advise(things.filter(b=2), order_by=("c", "id"))
    assert report.served
    assert "UniqueConstraint adv_thing_b_c_uniq" in report.reasons[0]


def test_partial_index_serves_when_the_filters_imply_its_condition(vendor: str) -> None:
    report = advise(events.filter(kind=2, deleted=False), order_by="id")
    assert report.served
    assert report.index_name == "adv_event_live_kind"
    # MariaDB builds the index without its condition: deleted is then checked
    # on the rows.
    assert report.residual_filters == (("deleted",) if vendor == "mysql" else ())


def test_partial_index_is_unusable_when_its_condition_is_not_implied(
    vendor: str,
) -> None:
    report = advise(events.filter(kind=2), order_by="id")
    if vendor == "mysql":
        assert report.served  # built as a full index there
        return
    assert not report.served
    assert report.full_scan
    assert any(
        "is partial and the filters do not imply its condition (deleted=False)"
        in reason
        for reason in report.reasons
    )


def test_expression_index_is_reported_as_not_usable(vendor: str) -> None:
    report = advise(things.filter(c=1), order_by="id")
    assert not report.served
    expression_reasons = [r for r in report.reasons if "indexes an expression" in r]
    # MariaDB builds no expression index at all.
    assert len(expression_reasons) == (0 if vendor == "mysql" else 1)


def test_operator_class_index_cannot_give_the_order(vendor: str) -> None:
    report = advise(things.filter(name__gt="m"), order_by=("name", "id"))
    if vendor == "postgresql":
        assert not report.served
        assert any("operator class varchar_pattern_ops" in r for r in report.reasons)
    else:
        # No operator classes elsewhere; the appended pk completes (name, id).
        assert report.served


def test_descending_index_serves_forwards_and_backwards_not_mixed() -> None:
    project = events.filter(project=3)
    assert advise(project, order_by=("-created", "id")).served
    backwards = advise(project, order_by=("created", "-id"))
    assert backwards.served
    assert "scanned backwards" in backwards.reasons[0]
    mixed = advise(project, order_by=("created", "id"))
    assert not mixed.served
    assert any("mixes directions" in reason for reason in mixed.reasons)


def test_in_list_before_the_keyset_names_the_two_ways_out() -> None:
    report = advise(events.filter(group__in=[1, 2, 3]), order_by="id")
    assert not report.served
    assert report.needs_sort
    assert report.index_name == "adv_event_group_id"
    assert report.reasons[0] == (
        "adv_event_group_id (group, id; Meta.indexes): the IN list of 3 values on "
        "group comes before id, so rows come ordered by (group, id), not by id: "
        "every page sorts all remaining matches."
    )
    assert report.reasons[-1] == (
        "Two ways out of the sort: order by the IN column first (order_by=('group', "
        "'id')), or keep order_by=('id',) with the merge plan (plan=\"merge\"), which "
        "reads one bounded branch per value; adv_event_group_id serves both."
    )
    assert report.recommendation is None


def test_range_before_the_keyset_breaks_the_order() -> None:
    report = advise(events.filter(group__gte=2), order_by="id")
    assert not report.served
    assert "a range on group comes before id" in report.reasons[0]
    assert "order by group first (order_by=('group', 'id'))" in report.reasons[-1]


def test_in_list_on_the_first_key_is_served() -> None:
    report = advise(events.filter(group__in=[1, 2, 3]), order_by=("group", "id"))
    assert report.served
    assert report.index_name == "adv_event_group_id"


def test_is_null_fixes_the_column_except_on_postgresql(vendor: str) -> None:
    report = advise(events.filter(group__isnull=True), order_by="id")
    assert report.served is (vendor != "postgresql")
    if vendor == "postgresql":
        assert "does not take group IS NULL as fixing group" in report.reasons[0]
        assert report.recommendation is not None
        assert report.recommendation.fields == ("id",)
        assert report.recommendation.condition == Q(group__isnull=True)


def test_tenant_filter_outside_the_index_is_a_residual_filter(vendor: str) -> None:
    report = advise(GroupHash.objects.filter(project_id=7, group_id=3), order_by="id")
    assert report.served
    assert "never needs dropping" in report.reasons[-1]
    if vendor in {"mysql", "sqlite"}:
        # (project_id) is (project_id, id) there: either index serves.
        assert report.residual_filters in {("project_id",), ("group_id",)}
        return
    assert report.index_name == "sentry_grouphash_group_id_idx"
    assert report.residual_filters == ("project_id",)


def test_keyset_range_on_the_first_key_bounds_the_pk() -> None:
    assert advise(events.filter(id__gt=100), order_by="id").served


def test_no_filter_is_served_by_the_primary_key() -> None:
    report = advise(events.all(), order_by="pk")
    assert report.served
    assert not report.full_scan


@pytest.mark.parametrize(
    "queryset",
    [
        pytest.param(lambda: events.exclude(project=3), id="not"),
        pytest.param(lambda: events.filter(Q(project=3) | Q(kind=1)), id="or"),
        pytest.param(lambda: events.filter(code__startswith="c1"), id="other_lookup"),
    ],
)
def test_filters_that_cannot_bound_an_index_leave_a_full_scan(queryset: Any) -> None:
    report = advise(queryset(), order_by="id")
    assert not report.served
    assert report.full_scan
    assert not report.needs_sort  # the pk still gives the order


def test_filters_on_a_joined_table_cannot_bound_an_index() -> None:
    report = advise(GroupHash.objects.filter(group__message="m"), order_by="id")
    assert not report.served
    assert any(
        reason.startswith("Conditions on message cannot bound an index scan")
        for reason in report.reasons
    )


def test_advise_runs_no_query(django_assert_num_queries: Any) -> None:
    advise(events.filter(group=1), order_by="id")  # warm Django's caches
    with django_assert_num_queries(0):
        advise(events.filter(group__in=[1, 2]), order_by=("group", "id"))


def test_advise_takes_a_wrapper() -> None:
    wrapper = RangeQuerySetWrapper(events.filter(group=1), order_by="id", step=10)
    report = advise(wrapper)
    assert report.served
    assert report.order_by == ("id",)


def test_advise_needs_an_order_for_a_queryset() -> None:
    with pytest.raises(
        InvalidQuerySetError,
        match=r"^advise\(\) needs the keyset order of a queryset: pass "
        r"order_by=\(\.\.\.\), e\.g\. order_by=\('group_id', 'id'\)\.$",
    ):
        advise(events.all())


def test_advise_refuses_what_is_not_a_queryset() -> None:
    with pytest.raises(
        InvalidQuerySetError,
        match=r"^advise\(\) takes a QuerySet or a RangeQuerySetWrapper, not list: "
        r"pass the queryset you iterate\.$",
    ):
        advise([], order_by="id")


def test_check_index_logs_the_report_once_when_not_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="rangeqs"):
        check_index(events.filter(group__in=[1, 2]), order_by=("id",), mode=True)
        check_index(events.filter(group=1), order_by=("id",), mode=True)
    (record,) = caplog.records
    assert record.name == "rangeqs"
    assert record.getMessage().startswith(
        "rangeqs index advice for testapp.AdvisedEvent, order_by=('id',)\nNOT SERVED"
    )


def test_check_index_and_auto_plan_log_an_unserved_shape_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Both the auto plan choice and check_index=True report an unserved
    # shape; together they must not say it twice, nor again for the next
    # wrapper of the same shape (a worker builds one per task).
    with caplog.at_level(logging.WARNING, logger="rangeqs"):
        for _ in range(2):
            RangeQuerySetWrapper(events.filter(created__gt=3), check_index=True)
    assert len(caplog.records) == 1


def test_check_index_error_mode_raises_one_sentence() -> None:
    with pytest.raises(
        InvalidQuerySetError,
        match=r"^No index of testapp\.AdvisedEvent serves order_by=\('id',\) under "
        r"these filters without a sort or an unbounded scan: add the index "
        r"\S+ on \(created, id\), or pass check_index=True to only log the "
        r"report\.$",
    ):
        check_index(events.filter(created=3), order_by=("id",), mode="error")


def test_wrapper_check_index_warns_at_construction(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="rangeqs"):
        RangeQuerySetWrapper(
            events.filter(created__gt=3), plan="plain", check_index=True
        )
    assert len(caplog.records) == 1
    with pytest.raises(InvalidQuerySetError, match=r"^No index of"):
        RangeQuerySetWrapper(
            events.filter(created__gt=3), plan="plain", check_index="error"
        )
