"""Which declared index serves a keyset order under a queryset's conditions.

The rules both the plan chooser (``rangeqs._plans.select``) and the index
advisor (``rangeqs.advisor``, which adds names, sentences and
recommendations on top) apply, to the indexes of
:mod:`rangeqs._declared_indexes`. Pure, and the verdicts are data (a
finding code, the column, the keys), never sentences.

An index serves when its columns are, in order: columns fixed by equality
(``= v``; ``IS NULL`` except on PostgreSQL), then the keyset columns, all in
the index's directions or all reversed (a backward scan). Anything else on a
column before the keyset columns (an IN list, a range, no filter at all)
makes the database return rows in that column's order first, so it sorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import QuerySet

from rangeqs._where import filters_readable, where_conditions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import Model

    from rangeqs._declared_indexes import IndexColumn, ModelIndex
    from rangeqs._keys import Key
    from rangeqs._where import Condition

__all__ = ["FitFinding", "IndexFit", "Verdict", "fit_index", "judge", "pins_order"]


#: What one index does for a filter shape and a keyset order:
#: ``serves`` (the rows come in key order), ``expression`` (it indexes an
#: expression), ``partial_not_implied`` (the filters do not imply its
#: condition), ``opclass`` (a column's operator class does not follow ORDER
#: BY), ``mixed_directions``, ``column_before_keys`` (a column not fixed by
#: equality comes before the next key), ``ends_before_keys``.
FitFinding = Literal[
    "serves",
    "expression",
    "partial_not_implied",
    "opclass",
    "mixed_directions",
    "column_before_keys",
    "ends_before_keys",
]


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
    finding: FitFinding
    #: Index columns (attnames) the scan reads, for telling residual filters.
    columns: tuple[str, ...] = ()
    #: The index column the finding is about (``opclass``, ``column_before_keys``).
    column: IndexColumn | None = None
    #: The keys the index does not give in order, from the first one it misses.
    open_keys: tuple[Key, ...] = ()
    #: ``serves`` by a backward scan.
    reversed_scan: bool = False
    #: ``serves`` with these columns fixed by equality before the keys.
    fixed: tuple[str, ...] = ()

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
    if index.expression:
        return _unusable(index, "expression")
    implied = _implied_condition_columns(model, index, conditions)
    if implied is None:
        return _unusable(index, "partial_not_implied")
    fixed = {
        c.field.attname: c for c in conditions if c.field and pins_order(c, vendor)
    }
    bounds = {c.field.attname: c for c in conditions if c.can_bound_index and c.field}
    # Keys pinned by equality are constant: they cannot be out of order.
    open_keys = [key for key in keys if key.name not in fixed]

    prefix: list[str] = []
    matched = 0
    reversed_scan: bool | None = None
    columns = tuple(column.attname for column in index.columns)

    def unordered(
        finding: FitFinding,
        column: IndexColumn | None = None,
        breaker: Condition | None = None,
    ) -> IndexFit:
        return IndexFit(
            index=index,
            usable=True,
            ordered=False,
            bounded_by=(*prefix, *implied),
            breaker=breaker,
            finding=finding,
            columns=columns,
            column=column,
            open_keys=tuple(open_keys[matched:]),
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
                return unordered("opclass", column)
            backward = column.descending != key.descending
            if reversed_scan is not None and backward != reversed_scan:
                return unordered("mixed_directions", column)
            reversed_scan = backward
            matched += 1
            if matched == 1 and not prefix and key.name in bounds:
                prefix.append(key.name)
            continue
        breaker = bounds.get(column.attname)
        if breaker is not None and matched == 0:
            prefix.append(column.attname)
        return unordered("column_before_keys", column, breaker)

    if matched < len(open_keys) and not _unique_ends_keys(index, fixed):
        return unordered("ends_before_keys")
    return IndexFit(
        index=index,
        usable=True,
        ordered=True,
        bounded_by=(*prefix, *implied),
        breaker=None,
        finding="serves",
        columns=columns,
        reversed_scan=bool(reversed_scan),
        fixed=tuple(c for c in prefix if c in fixed),
    )


def _unusable(index: ModelIndex, finding: FitFinding) -> IndexFit:
    return IndexFit(
        index=index,
        usable=False,
        ordered=False,
        bounded_by=(),
        breaker=None,
        finding=finding,
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
    if not filters_readable():
        # Neither the filters nor the index's condition can be read.
        return None
    # A plain queryset of the model: a default manager's own filters are no
    # part of the index's condition.
    wanted = where_conditions(QuerySet(model=model).filter(index.condition))
    have = {_signature(c) for c in conditions if c.can_bound_index}
    if not all(c.can_bound_index and _signature(c) in have for c in wanted):
        return None
    return tuple(c.field.attname for c in wanted if c.field is not None)


def _signature(condition: Condition) -> tuple[str | None, ...]:
    return (condition.column, condition.lookup_name, repr(condition.values))


@dataclass(frozen=True)
class Verdict:
    """Whether one index serves a keyset walk under a queryset's conditions."""

    #: Every condition of the queryset, bounding or not.
    conditions: tuple[Condition, ...]
    fits: tuple[IndexFit, ...]
    #: The serving index that the filters narrow most, else the best partial one.
    best: IndexFit | None
    #: One index gives the rows in keyset order, bounded by the filters.
    served: bool
    #: Every page sorts the remaining matching rows.
    needs_sort: bool
    #: No index narrows the scan by the filters.
    full_scan: bool

    def warning_key(self, model: type[Model], keys: Sequence[Key]) -> tuple[Any, ...]:
        """What makes two unserved walks the same advice: the model, the
        order, the index and what it lacks, never the values filtered on."""
        best = self.best
        finding: tuple[Any, ...] = ("sort" if self.needs_sort else "scan",)
        if best is not None:
            column = None if best.column is None else best.column.attname
            breaker = None if best.breaker is None else best.breaker.kind
            finding = (*finding, best.finding, column, breaker, bool(best.bounded_by))
        return (
            model._meta.label,
            tuple(key.ordering for key in keys),
            None if best is None else best.index.identity,
            finding,
        )


def judge(
    model: type[Model],
    conditions: Sequence[Condition],
    keys: Sequence[Key],
    indexes: Sequence[ModelIndex],
    *,
    vendor: str,
) -> Verdict:
    """Fit every index to the conditions and keys; pick the best."""
    bounding = [c for c in conditions if c.can_bound_index]
    fits = tuple(
        fit_index(model, index, bounding, keys, vendor=vendor) for index in indexes
    )
    best = _best_fit(fits, keys, filtered=bool(conditions))
    return Verdict(
        conditions=tuple(conditions),
        fits=fits,
        best=best,
        served=best is not None
        and best.served
        and (bool(best.bounded_by) or not conditions),
        needs_sort=best is None or not best.ordered,
        full_scan=best is None or (not best.bounded_by and bool(conditions)),
    )


def _best_fit(
    fits: Sequence[IndexFit], keys: Sequence[Key], *, filtered: bool
) -> IndexFit | None:
    """The serving index that the filters narrow most; else the index that
    narrows the scan most; else one that at least gives the order.

    Ties go to the index that holds the keyset columns (the one a fix, merge
    plan or new order, builds on), then to one that declares them rather than
    gets the pk appended by the database, then to the shorter one.
    """
    key_names = {key.name for key in keys}

    def rank(fit: IndexFit) -> tuple[int, int, bool, int]:
        held = len(key_names.intersection(fit.columns))
        return (len(fit.bounded_by), held, not fit.index.pk_appended, -len(fit.columns))

    served = [f for f in fits if f.served and (f.bounded_by or not filtered)]
    if served:
        return max(served, key=rank)
    narrowing = [f for f in fits if f.usable and f.bounded_by]
    if narrowing:
        return max(narrowing, key=rank)
    ordered = [f for f in fits if f.served]
    return ordered[0] if ordered else None
