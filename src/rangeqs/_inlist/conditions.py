"""Find and replace the IN lists of a queryset's WHERE tree.

:func:`in_list_condition` finds the IN list a plan walks,
:func:`replace_condition` puts another lookup in its place, and
:func:`rewrite_in_lists` swaps every long top-level IN list for the
one-parameter :class:`~rangeqs._inlist.lookup.InValues`. Lists that rangeqs
cannot render exactly stay Django's (:func:`inexact_in_list`), and a plan
asked to walk one is refused (:func:`refuse_inexact_in_list`). Reading the
tree is :mod:`rangeqs._where`'s one walk; nothing here runs a query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rangeqs._django.query import with_leaf
from rangeqs._inlist.lookup import LONG_LIST, InValues, in_values
from rangeqs._listed import renders_exactly
from rangeqs._where import where_conditions
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.db.models.lookups import Lookup

    from rangeqs._where import Condition

__all__ = [
    "in_list_condition",
    "inexact_in_list",
    "refuse_inexact_in_list",
    "replace_condition",
    "rewrite_in_lists",
]


def rewrite_in_lists(
    queryset: QuerySet[Any, Any], *, longer_than: int = LONG_LIST
) -> QuerySet[Any, Any]:
    """``queryset`` with each top-level IN list longer than ``longer_than``
    sent as one parameter (:class:`InValues`); other filters are untouched."""
    for condition in where_conditions(queryset):
        if (
            _is_literal_in_list(condition)
            and len(condition.values or ()) > longer_than
            and not isinstance(condition.lookup, InValues)
        ):
            assert condition.lookup is not None
            lookup = in_values(condition.lookup.lhs, condition.lookup.rhs)
            queryset = replace_condition(queryset, condition, lookup)
    return queryset


def in_list_condition(
    queryset: QuerySet[Any, Any],
    *,
    column: str | None = None,
    not_column: str | None = None,
) -> Condition | None:
    """The first IN list of literal values AND-ed into the filters, if any:
    on the column with attname ``column``, or on any column but ``not_column``."""
    for condition in where_conditions(queryset):
        if not _is_literal_in_list(condition):
            continue
        assert condition.field is not None
        attname = condition.field.attname
        if column is not None and attname != column:
            continue
        if not_column is not None and attname == not_column:
            continue
        return condition
    return None


def replace_condition(
    queryset: QuerySet[Any, Any], condition: Condition, lookup: Lookup[Any]
) -> QuerySet[Any, Any]:
    """A copy of ``queryset`` with ``lookup`` in the place of ``condition``."""
    return with_leaf(queryset, condition.path, lookup)


def _is_literal_in_list(condition: Condition) -> bool:
    """An IN list of literal values that rangeqs can render exactly: a list of
    JSON values, or of a type without an exact rendering, is Django's alone
    (no plan walks it, no long-list form replaces it)."""
    return (
        condition.kind == "in"
        and condition.can_bound_index
        and condition.values is not None
        and condition.field is not None
        and renders_exactly(condition.field, condition.values)
    )


def inexact_in_list(queryset: QuerySet[Any, Any]) -> Condition | None:
    """The first IN list of literal values AND-ed into the filters that rangeqs
    cannot render exactly (see :func:`rangeqs._listed.renders_exactly`)."""
    for condition in where_conditions(queryset):
        if (
            condition.kind == "in"
            and condition.can_bound_index
            and condition.values is not None
            and condition.field is not None
            and not _is_literal_in_list(condition)
        ):
            return condition
    return None


def refuse_inexact_in_list(plan: str, queryset: QuerySet[Any, Any]) -> None:
    """Raise when ``plan`` was asked to walk an IN list it cannot render exactly."""
    condition = inexact_in_list(queryset)
    if condition is None:
        return
    assert condition.field is not None
    raise InvalidQuerySetError(
        f"plan={plan!r} cannot walk the IN list on {condition.field.attname!r}: "
        f"rangeqs compares only integer, text, decimal, UUID and date values "
        f"exactly as Django's own IN does, so use plan='plain' for this list."
    )
