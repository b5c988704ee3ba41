"""Choose the plan for a queryset (``plan=`` of the wrapper).

``"auto"`` keeps every page's work bounded when it can:

1. partition, when the filters have an IN list of several values, the keys
   start with its column, and an index serves ``col = v`` ordered by the
   keys (the advisor's verdict on one value's branch);
2. merge, when the keys do not start with the IN column, the list has at most
   :data:`~rangeqs._plans.merge.MERGE_MAX_VALUES` values, and an index serves
   ``col = v`` ordered by the keys;
3. plain, when an index serves the keys under the filters as they are;
4. otherwise plain, and the advisor's report is logged once on logger
   ``"rangeqs"``: no plan can bound the pages without a new index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from django.db.models import Q

from rangeqs._inlist import in_list_condition, refuse_inexact_in_list
from rangeqs._plans.merge import MERGE_MAX_VALUES, MergePlan
from rangeqs._plans.partition import PartitionPlan
from rangeqs._plans.plain import PlainPlan
from rangeqs._where import without_condition
from rangeqs.advisor import advise
from rangeqs.advisor._advise import warn_once
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key
    from rangeqs._plans.base import Plan
    from rangeqs._where import Condition

__all__ = ["PLAN_NAMES", "PlanName", "select_plan"]

PlanName = Literal["auto", "plain", "merge", "partition"]
PLAN_NAMES: tuple[str, ...] = ("auto", "plain", "merge", "partition")


def select_plan(
    requested: str, queryset: QuerySet[Any, Any], keys: Sequence[Key]
) -> type[Plan]:
    """The plan class for ``requested``; "auto" picks one for the queryset's shape."""
    if requested not in PLAN_NAMES:
        raise InvalidQuerySetError(
            f"plan={requested!r} is not a plan: use one of "
            f"{', '.join(map(repr, PLAN_NAMES))}."
        )
    if requested == "plain":
        return PlainPlan
    lead = keys[0].name
    leading_list = in_list_condition(queryset, column=lead)
    other_list = in_list_condition(queryset, not_column=lead)
    if requested != "auto" and leading_list is None and other_list is None:
        refuse_inexact_in_list(requested, queryset)
    if requested == "partition":
        _check_partition(leading_list, other_list, keys)
        return PartitionPlan
    if requested == "merge":
        _check_merge(other_list, leading_list, keys)
        return MergePlan
    return _auto(queryset, keys, leading_list, other_list)


def _auto(
    queryset: QuerySet[Any, Any],
    keys: Sequence[Key],
    leading_list: Condition | None,
    other_list: Condition | None,
) -> type[Plan]:
    orderings = [key.ordering for key in keys]
    # Even where an index gives the order of (col, key) under `col IN (...)`,
    # a plain page re-enters every listed value on every page: only a single
    # value leaves nothing for the IN-list plans to save.
    if _several_values(leading_list) and _branch_served(
        queryset, leading_list, orderings
    ):
        return PartitionPlan
    if (
        other_list is not None
        and 1 < _distinct_count(other_list) <= MERGE_MAX_VALUES
        and _branch_served(queryset, other_list, orderings)
    ):
        return MergePlan
    report = advise(queryset, order_by=orderings)
    if report.served:
        return PlainPlan
    warn_once(report)
    return PlainPlan


def _several_values(condition: Condition | None) -> bool:
    return condition is not None and _distinct_count(condition) > 1


def _distinct_count(condition: Condition) -> int:
    return len(set(condition.values or ()))


def _branch_served(
    queryset: QuerySet[Any, Any], condition: Condition | None, orderings: Sequence[str]
) -> bool:
    """Whether an index serves the keys for one value of the list (the advisor's
    static verdict on ``col = v`` in the place of ``col IN (...)``)."""
    assert condition is not None
    assert condition.field is not None
    assert condition.values
    one_value = without_condition(queryset, condition).filter(
        Q(**{condition.field.attname: condition.values[0]})
    )
    return advise(one_value, order_by=orderings).served


def _check_partition(
    leading_list: Condition | None, other_list: Condition | None, keys: Sequence[Key]
) -> None:
    if leading_list is not None:
        return
    if other_list is None:
        raise InvalidQuerySetError(
            "plan='partition' walks the values of an IN list, but the queryset has "
            "no __in filter on a column of its model: filter with col__in=[...] or "
            "use plan='plain'."
        )
    assert other_list.field is not None
    column = other_list.field.attname
    raise InvalidQuerySetError(
        f"plan='partition' needs order_by to start with the IN column "
        f"{column!r}, not {keys[0].name!r}: pass order_by=({column!r}, "
        f"{keys[0].name!r}) or use plan='merge' to keep {keys[0].name!r} order."
    )


def _check_merge(
    other_list: Condition | None, leading_list: Condition | None, keys: Sequence[Key]
) -> None:
    if other_list is None and leading_list is not None:
        raise InvalidQuerySetError(
            f"plan='merge' keeps an order that does not start with the IN column, "
            f"but order_by starts with {keys[0].name!r}: use plan='partition'."
        )
    if other_list is None:
        raise InvalidQuerySetError(
            "plan='merge' merges one branch per value of an IN list, but the "
            "queryset has no __in filter on a column of its model: filter with "
            "col__in=[...] or use plan='plain'."
        )
    assert other_list.field is not None
    count = _distinct_count(other_list)
    if count > MERGE_MAX_VALUES:
        column = other_list.field.attname
        raise InvalidQuerySetError(
            f"plan='merge' unions one query per value and takes at most "
            f"{MERGE_MAX_VALUES} values, but the IN list on {column!r} has {count}: "
            f"order by ({column!r}, ...) with plan='partition', or split the list."
        )
