"""Choose the plan for a queryset (``plan=`` of the wrapper).

A pure function of the queryset's analysed shape (its conditions, the IN
column, the model's indexes as declared) and a few facts about the database
(:class:`~rangeqs._declared_indexes.IndexFacts`): no query, no schema editor. The
wrapper checks the arguments at construction (:func:`check_plan`) and
chooses when the walk starts (:func:`choose_plan`).

``"auto"`` keeps every page's work bounded when it can:

1. partition, when the filters have an IN list of several values, the keys
   start with its column, and an index serves ``col = v`` ordered by the
   keys (the served rule on one value's branch);
2. merge, when the keys do not start with the IN column, the list has at most
   :data:`~rangeqs._plans.merge.MERGE_MAX_VALUES` values, an index serves
   ``col = v`` ordered by the keys, the queryset does not lock its rows
   (``select_for_update()``: no database locks the rows of a UNION) and the
   model's primary key is one column (merge reads the merged rows back by it);
3. plain, when an index serves the keys under the filters as they are;
4. otherwise plain, and the choice names the shape the advisor's report is
   logged for, once, on logger ``"rangeqs"``: no plan can bound the pages
   without a new index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import django
from django.db.models import CompositePrimaryKey, Q

from rangeqs._django import query
from rangeqs._index_rules import judge
from rangeqs._inlist import in_list_condition, refuse_inexact_in_list
from rangeqs._keys import resolve_keys
from rangeqs._plans.merge import MERGE_MAX_VALUES, MergePlan
from rangeqs._plans.partition import PartitionPlan
from rangeqs._plans.plain import PlainPlan
from rangeqs._where import filters_readable, where_conditions, without_condition
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs._declared_indexes import ModelIndex
    from rangeqs._keys import Key
    from rangeqs._plans.base import PageStrategy
    from rangeqs._where import Condition

__all__ = ["PLAN_NAMES", "PlanChoice", "PlanName", "check_plan", "choose_plan"]

PlanName = Literal["auto", "plain", "merge", "partition"]
PLAN_NAMES: tuple[str, ...] = ("auto", "plain", "merge", "partition")

_PLANS: dict[str, type[PageStrategy]] = {
    "plain": PlainPlan,
    "merge": MergePlan,
    "partition": PartitionPlan,
}


@dataclass(frozen=True)
class PlanChoice:
    plan: type[PageStrategy]
    #: Set when no plan bounds the pages with the declared indexes: the
    #: shape to warn about once (``Verdict.warning_key``).
    unserved: tuple[Any, ...] | None = None


def check_plan(
    requested: str, queryset: QuerySet[Any, Any], keys: Sequence[Key]
) -> None:
    """Refuse a plan that cannot page ``queryset`` by ``keys``, from the
    queryset's shape alone (read on a copy: inspecting a query can cache
    state on it, such as ``Query.base_table``)."""
    if requested not in PLAN_NAMES:
        raise InvalidQuerySetError(
            f"plan={requested!r} is not a plan: use one of "
            f"{', '.join(map(repr, PLAN_NAMES))}."
        )
    if requested in ("plain", "auto"):
        return
    if not filters_readable():
        raise InvalidQuerySetError(
            f"plan={requested!r} walks an IN list of the queryset's filters, which "
            f"rangeqs cannot read on Django {django.get_version()} (its query "
            f"internals differ from the releases rangeqs was checked on): use "
            f"plan='auto' or plan='plain', which page any filters."
        )
    queryset = queryset.all()
    lead = keys[0].name
    leading_list = in_list_condition(queryset, column=lead)
    other_list = in_list_condition(queryset, not_column=lead)
    if requested != "auto" and leading_list is None and other_list is None:
        refuse_inexact_in_list(requested, queryset)
    if requested == "partition":
        _check_partition(leading_list, other_list, keys)
        return
    _check_merge(other_list, leading_list, keys)
    if _composite_pk(queryset):
        raise InvalidQuerySetError(
            f"plan='merge' merges its branches on a single primary key column, "
            f"but {queryset.model.__name__} has a composite primary key: use "
            f"plan='partition' with order_by starting with the IN column, or "
            f"plan='plain'."
        )
    if query.locks_rows(queryset):
        raise InvalidQuerySetError(
            "plan='merge' unions one query per value, and databases refuse "
            "select_for_update() on a UNION: use plan='partition' with "
            "order_by starting with the IN column, or plan='plain'."
        )


def choose_plan(
    requested: str,
    queryset: QuerySet[Any, Any],
    keys: Sequence[Key],
    *,
    indexes: Sequence[ModelIndex],
    vendor: str,
) -> PlanChoice:
    """The plan for ``requested`` (checked by :func:`check_plan`); "auto"
    picks one for the queryset's shape and the declared ``indexes``."""
    if requested != "auto":
        return PlanChoice(_PLANS[requested])
    if not filters_readable():
        # No IN list to walk, no index to judge by: the plan that pages any
        # filters, and no advice built on filters it cannot see.
        return PlanChoice(PlainPlan)
    model = queryset.model
    # The keys as the advisor resolves them: a NULL phase's keys may need
    # the pk appended to be unique.
    keys, _ = resolve_keys(
        model, [key.ordering for key in keys], reverse=False, add_tie_breaker=True
    )
    lead = keys[0].name
    leading_list = in_list_condition(queryset, column=lead)
    other_list = in_list_condition(queryset, not_column=lead)

    def served(conditions: Sequence[Condition]) -> bool:
        return judge(model, conditions, keys, indexes, vendor=vendor).served

    # Even where an index gives the order of (col, key) under `col IN (...)`,
    # a plain page re-enters every listed value on every page: only a single
    # value leaves nothing for the IN-list plans to save.
    if _several_values(leading_list) and served(
        _one_value_branch(queryset, leading_list)
    ):
        return PlanChoice(PartitionPlan)
    if (
        other_list is not None
        and not query.locks_rows(queryset)
        and not _composite_pk(queryset)
        and 1 < _distinct_count(other_list) <= MERGE_MAX_VALUES
        and served(_one_value_branch(queryset, other_list))
    ):
        return PlanChoice(MergePlan)
    verdict = judge(model, where_conditions(queryset), keys, indexes, vendor=vendor)
    if verdict.served:
        return PlanChoice(PlainPlan)
    return PlanChoice(PlainPlan, unserved=verdict.warning_key(model, keys))


def _composite_pk(queryset: QuerySet[Any, Any]) -> bool:
    return isinstance(queryset.model._meta.pk, CompositePrimaryKey)


def _several_values(condition: Condition | None) -> bool:
    return condition is not None and _distinct_count(condition) > 1


def _distinct_count(condition: Condition) -> int:
    return len(set(condition.values or ()))


def _one_value_branch(
    queryset: QuerySet[Any, Any], condition: Condition | None
) -> Sequence[Condition]:
    """The conditions of ``col = v`` in the place of ``col IN (...)``."""
    assert condition is not None
    assert condition.field is not None
    assert condition.values
    one_value = without_condition(queryset, condition).filter(
        Q(**{condition.field.attname: condition.values[0]})
    )
    return where_conditions(one_value)


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
