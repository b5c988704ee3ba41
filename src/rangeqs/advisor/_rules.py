"""The advisor's sentences about how one index fits a keyset order.

The verdicts themselves are :mod:`rangeqs._index_rules` (shared with the
plan chooser); this renders them, and the ways out of a sort, as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from rangeqs._index_rules import IndexFit, fit_index, pins_order

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rangeqs._keys import Key
    from rangeqs._where import Condition

__all__ = ["IndexFit", "fit_index", "pins_order", "reason", "ways_out"]


def reason(fit: IndexFit, keys: Sequence[Key]) -> str:
    """The sentence that says how ``fit.index`` fits the keys, and why."""
    index = fit.index
    name = index.describe()
    key_label = _key_label(keys)
    column = fit.column
    if fit.finding == "expression":
        return f"{name} indexes an expression, not the columns of order_by."
    if fit.finding == "partial_not_implied":
        return (
            f"{name} is partial and the filters do not imply its condition "
            f"({_describe_condition(index.condition)}): filter on that condition "
            f"too to use it."
        )
    if fit.finding == "opclass":
        assert column is not None
        return (
            f"{name} uses the operator class {column.opclass} on "
            f"{column.attname}, which does not follow the column's ORDER BY."
        )
    if fit.finding == "mixed_directions":
        return (
            f"{name} mixes directions against order_by={_key_tuple(keys)!r}: "
            f"an index serves the keys in its directions or all reversed."
        )
    if fit.finding == "column_before_keys":
        assert column is not None
        return _break_reason(
            name, column.attname, fit.breaker, fit.open_keys, key_label
        )
    if fit.finding == "ends_before_keys":
        missing = ", ".join(key.name for key in fit.open_keys)
        return f"{name} ends before the keyset column(s) {missing}."
    how = "scanned backwards, " if fit.reversed_scan else ""
    fixed_part = f"{', '.join(fit.fixed)} fixed by equality, then " if fit.fixed else ""
    return f"{name}, {how}gives {fixed_part}{key_label} in index order: no sort."


def _break_reason(
    name: str,
    column: str,
    breaker: Condition | None,
    open_keys: Sequence[Key],
    key_label: str,
) -> str:
    next_key = open_keys[0].name
    if breaker is None:
        return (
            f"{name} has {column} before {next_key}, and no filter fixes {column} "
            f"by equality: rows come ordered by {column} first."
        )
    if breaker.kind == "isnull" and breaker.values == (True,):
        return (
            f"{name}: PostgreSQL does not take {column} IS NULL as fixing {column}, "
            f"so it sorts to give rows by {key_label} even though the index holds "
            f"them in that order."
        )
    if breaker.kind == "in":
        count = "" if breaker.values is None else f" of {len(breaker.values)} values"
        what = f"the IN list{count}"
    elif breaker.kind == "range":
        what = "a range"
    else:
        what = f"the {breaker.lookup_name} filter"
    return (
        f"{name}: {what} on {column} comes before {next_key}, so rows come ordered "
        f"by ({column}, {next_key}), not by {key_label}: every page sorts all "
        f"remaining matches."
    )


def ways_out(fit: IndexFit, keys: Sequence[Key]) -> str:
    """How to keep bounded pages when ``fit.breaker`` precedes the keyset columns."""
    breaker = fit.breaker
    assert breaker is not None
    assert breaker.field is not None
    column = breaker.field.attname
    rest = tuple(key.ordering for key in keys if key.name != column)
    suggested = (column, *rest)
    if breaker.kind == "isnull":
        return (
            f"To avoid the sort on PostgreSQL, index ({', '.join(rest)}) only where "
            f"{column} IS NULL (a partial index, condition=Q({column}__isnull=True))."
        )
    if breaker.kind != "in":
        return (
            f"To avoid the sort, order by {column} first (order_by={suggested!r}) or "
            f"filter {column} by equality."
        )
    # The columns fixed before the IN column stay in front of it.
    lead = fit.columns[: fit.columns.index(column)]
    needed = (*lead, column, *(key.name for key in keys if key.name != column))
    if fit.columns[: len(needed)] == needed:
        index = f"{fit.index.name} serves both"
    else:
        index = f"both need an index led by ({', '.join(needed)})"
    return (
        f"Two ways out of the sort: order by the IN column first "
        f"(order_by={suggested!r}), or keep order_by={_key_tuple(keys)!r} with "
        f'the merge plan (plan="merge"), which reads one bounded branch per '
        f"value; {index}."
    )


def _describe_condition(condition: Q | None) -> str:
    """``Q(deleted=False)`` as ``deleted=False``, the way it is written."""
    if condition is None:
        return ""
    terms: list[str] = []
    for term in condition.children:
        if isinstance(term, tuple):
            lookup, value = term
            terms.append(f"{lookup}={value!r}")
        elif isinstance(term, Q):
            terms.append(_describe_condition(term))
        else:
            terms.append(str(term))
    joined = (", " if condition.connector == Q.AND else " OR ").join(terms)
    return f"NOT ({joined})" if condition.negated else joined


def _key_label(keys: Sequence[Key]) -> str:
    return ", ".join(key.ordering for key in keys)


def _key_tuple(keys: Sequence[Key]) -> tuple[str, ...]:
    return tuple(key.ordering for key in keys)
