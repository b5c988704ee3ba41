"""plan="auto" and the forced plans: which plan runs, and the errors."""

from __future__ import annotations

import logging

import pytest

from rangeqs import InvalidQuerySetError
from rangeqs._plans.merge import MERGE_MAX_VALUES
from rangeqs.wrapper import RangeQuerySetWrapper
from tests.testapp.models import PlanRow

pytestmark = pytest.mark.django_db


def test_auto_picks_partition_when_the_keys_start_with_the_in_column() -> None:
    queryset = PlanRow.objects.filter(project_id=1, group_id__in=[1, 2, 3])

    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"))

    assert wrapper.plan == "partition"


def test_auto_picks_merge_for_id_order_over_an_indexed_in_column() -> None:
    queryset = PlanRow.objects.filter(project_id=1, group_id__in=[1, 2, 3])

    assert RangeQuerySetWrapper(queryset, order_by="id").plan == "merge"


def test_auto_keeps_plain_when_an_index_already_serves_the_keys() -> None:
    queryset = PlanRow.objects.filter(group_id=4)

    assert RangeQuerySetWrapper(queryset, order_by="id").plan == "plain"


def test_auto_keeps_plain_for_a_list_too_long_to_merge() -> None:
    queryset = PlanRow.objects.filter(group_id__in=range(MERGE_MAX_VALUES + 1))

    assert RangeQuerySetWrapper(queryset, order_by="id").plan == "plain"


def test_auto_logs_the_advisors_report_once_when_no_plan_is_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queryset = PlanRow.objects.filter(project_id__in=[7, 8, 9])

    with caplog.at_level(logging.WARNING, logger="rangeqs"):
        wrappers = [RangeQuerySetWrapper(queryset, order_by="id") for _ in range(2)]
        for wrapper in wrappers:
            list(wrapper)  # the plan is chosen, and the advice given, at the walk
        plans = [wrapper.plan for wrapper in wrappers]

    assert plans == ["plain", "plain"]
    assert len(caplog.records) == 1
    assert "project_id" in caplog.records[0].getMessage()


def test_forced_plans_are_used_as_asked() -> None:
    queryset = PlanRow.objects.filter(group_id__in=[1, 2])

    assert RangeQuerySetWrapper(queryset, order_by="id", plan="plain").plan == "plain"
    assert RangeQuerySetWrapper(queryset, order_by="id", plan="merge").plan == "merge"
    partition = RangeQuerySetWrapper(
        queryset, order_by=("group_id", "id"), plan="partition"
    )
    assert partition.plan == "partition"


def test_partition_refuses_keys_that_do_not_start_with_the_in_column() -> None:
    queryset = PlanRow.objects.filter(group_id__in=[1, 2])

    with pytest.raises(InvalidQuerySetError) as raised:
        RangeQuerySetWrapper(queryset, order_by="id", plan="partition")

    assert str(raised.value) == (
        "plan='partition' needs order_by to start with the IN column 'group_id', "
        "not 'id': pass order_by=('group_id', 'id') or use plan='merge' to keep "
        "'id' order."
    )


def test_partition_refuses_a_queryset_without_an_in_list() -> None:
    with pytest.raises(InvalidQuerySetError, match="no __in filter"):
        RangeQuerySetWrapper(
            PlanRow.objects.filter(group_id=1),
            order_by=("group_id", "id"),
            plan="partition",
        )


def test_merge_refuses_a_queryset_without_an_in_list() -> None:
    with pytest.raises(InvalidQuerySetError, match=r"^plan='merge' merges one branch"):
        RangeQuerySetWrapper(PlanRow.objects.all(), order_by="id", plan="merge")


def test_merge_refuses_keys_that_start_with_the_in_column() -> None:
    queryset = PlanRow.objects.filter(group_id__in=[1, 2])

    with pytest.raises(InvalidQuerySetError) as raised:
        RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), plan="merge")

    assert str(raised.value) == (
        "plan='merge' keeps an order that does not start with the IN column, but "
        "order_by starts with 'group_id': use plan='partition'."
    )


def test_merge_refuses_more_values_than_it_can_union() -> None:
    queryset = PlanRow.objects.filter(group_id__in=range(MERGE_MAX_VALUES + 1))

    with pytest.raises(InvalidQuerySetError) as raised:
        RangeQuerySetWrapper(queryset, order_by="id", plan="merge")

    assert str(raised.value) == (
        f"plan='merge' unions one query per value and takes at most "
        f"{MERGE_MAX_VALUES} values, but the IN list on 'group_id' has "
        f"{MERGE_MAX_VALUES + 1}: order by ('group_id', ...) with "
        f"plan='partition', or split the list."
    )
