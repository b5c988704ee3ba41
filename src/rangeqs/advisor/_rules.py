"""The served rule: does one index give the keyset order under these filters?

An index serves when its columns are, in order: columns fixed by equality
(``= v``; ``IS NULL`` except on PostgreSQL), then the keyset columns, all in
the index's directions or all reversed (a backward scan). Anything else on a
column before the keyset columns (an IN list, a range, no filter at all)
makes the database return rows in that column's order first, so it sorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q

from rangeqs._where import where_conditions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import Model

    from rangeqs._keys import Key
    from rangeqs._where import Condition
    from rangeqs.advisor._indexes import ModelIndex

__all__ = ["IndexFit", "fit_index", "pins_order", "ways_out"]


@dataclass(frozen=True)
class IndexFit:
    """How one index fits a filter shape and a keyset order."""

    index: ModelIndex
    usable: bool
    #: Rows come out of the index in keyset order: no sort.
    ordered: bool
    #: Filter columns that narrow the scan (fixed prefix, a leading IN or
    #: range, the condition of a partial index).
    bounded_by: tuple[str, ...]
    #: The condition on a column before the keyset columns that breaks the order.
    breaker: Condition | None
    reason: str
    #: Index columns (attnames) the scan reads, for telling residual filters.
    columns: tuple[str, ...] = field(default=())

    @property
    def served(self) -> bool:
        return self.usable and self.ordered


def pins_order(condition: Condition, vendor: str) -> bool:
    """The condition fixes its column, so the next index column stays in order.

    PostgreSQL takes ``col = v`` as fixing ``col`` but not ``col IS NULL``:
    with ``IS NULL`` on the leading column it sorts (measured on 15 and 18).
    """
    if vendor == "postgresql" and condition.kind == "isnull":
        return False
    return condition.fixes_value


def fit_index(
    model: type[Model],
    index: ModelIndex,
    conditions: Sequence[Condition],
    keys: Sequence[Key],
    *,
    vendor: str,
) -> IndexFit:
    """Fit ``index`` to the bounding ``conditions`` and keyset ``keys``."""
    name = index.describe()
    if index.expression:
        return _unusable(
            index, f"{name} indexes an expression, not the columns of order_by."
        )
    implied = _implied_condition_columns(model, index, conditions)
    if implied is None:
        return _unusable(
            index,
            f"{name} is partial and the filters do not imply its condition "
            f"({_describe_condition(index.condition)}): filter on that condition "
            f"too to use it.",
        )
    fixed = {
        c.field.attname: c for c in conditions if c.field and pins_order(c, vendor)
    }
    bounds = {c.field.attname: c for c in conditions if c.can_bound_index and c.field}
    # Keys pinned by equality are constant: they cannot be out of order.
    open_keys = [key for key in keys if key.name not in fixed]
    key_label = _key_label(keys)

    prefix: list[str] = []
    matched = 0
    reversed_scan: bool | None = None
    columns = tuple(column.attname for column in index.columns)

    def unordered(reason: str, breaker: Condition | None = None) -> IndexFit:
        return IndexFit(
            index=index,
            usable=True,
            ordered=False,
            bounded_by=(*prefix, *implied),
            breaker=breaker,
            reason=reason,
            columns=columns,
        )

    for column in index.columns:
        if column.attname in fixed:
            if matched == 0:
                prefix.append(column.attname)
            continue
        if matched == len(open_keys):
            break
        key = open_keys[matched]
        if column.attname == key.name:
            if column.opclass:
                return unordered(
                    f"{name} uses the operator class {column.opclass} on "
                    f"{column.attname}, which does not follow the column's ORDER BY."
                )
            backward = column.descending != key.descending
            if reversed_scan is not None and backward != reversed_scan:
                return unordered(
                    f"{name} mixes directions against order_by={_key_tuple(keys)!r}: "
                    f"an index serves the keys in its directions or all reversed."
                )
            reversed_scan = backward
            matched += 1
            if matched == 1 and not prefix and key.name in bounds:
                prefix.append(key.name)
            continue
        breaker = bounds.get(column.attname)
        if breaker is not None and matched == 0:
            prefix.append(column.attname)
        reason = _break_reason(
            name, column.attname, breaker, open_keys[matched:], key_label
        )
        return unordered(reason, breaker)

    if matched < len(open_keys) and not _unique_ends_keys(index, fixed):
        missing = ", ".join(key.name for key in open_keys[matched:])
        return unordered(f"{name} ends before the keyset column(s) {missing}.")
    how = "scanned backwards, " if reversed_scan else ""
    fixed_part = (
        f"{', '.join(c for c in prefix if c in fixed)} fixed by equality, then "
        if any(c in fixed for c in prefix)
        else ""
    )
    return IndexFit(
        index=index,
        usable=True,
        ordered=True,
        bounded_by=(*prefix, *implied),
        breaker=None,
        reason=f"{name}, {how}gives {fixed_part}{key_label} in index order: no sort.",
        columns=columns,
    )


def _unusable(index: ModelIndex, reason: str) -> IndexFit:
    return IndexFit(
        index=index,
        usable=False,
        ordered=False,
        bounded_by=(),
        breaker=None,
        reason=reason,
    )


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


def _unique_ends_keys(index: ModelIndex, fixed: dict[str, Condition]) -> bool:
    """A unique index over non-null columns already orders every later key."""
    return index.unique and all(
        column.attname in fixed or not column.field.null for column in index.columns
    )


def _implied_condition_columns(
    model: type[Model], index: ModelIndex, conditions: Sequence[Condition]
) -> tuple[str, ...] | None:
    """The columns of a partial index's condition, or None when the filters do
    not imply it. Implied means: every AND-ed term of the condition is also a
    bounding filter with the same lookup and values."""
    if index.condition is None:
        return ()
    wanted = where_conditions(model._default_manager.filter(index.condition))
    have = {_signature(c) for c in conditions if c.can_bound_index}
    if not all(c.can_bound_index and _signature(c) in have for c in wanted):
        return None
    return tuple(c.field.attname for c in wanted if c.field is not None)


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


def _signature(condition: Condition) -> tuple[str | None, ...]:
    return (condition.column, condition.lookup_name, repr(condition.values))


def _key_label(keys: Sequence[Key]) -> str:
    return ", ".join(key.ordering for key in keys)


def _key_tuple(keys: Sequence[Key]) -> tuple[str, ...]:
    return tuple(key.ordering for key in keys)
