"""Read a queryset's WHERE tree as the conditions an index can use.

Internal API shared by the index advisor (``rangeqs.advisor``) and the IN-list
plans. It never runs a query and never changes the queryset it reads.

    >>> for condition in where_conditions(GroupHash.objects.filter(
    ...     project_id=7, group_id__in=[1, 2, 3]
    ... )):
    ...     condition.column, condition.kind, condition.values
    ('project_id', 'exact', (7,))
    ('group_id', 'in', (1, 2, 3))

Every leaf of the tree becomes one :class:`Condition`, in tree order. The
conditions AND-ed at the top level (directly, or through nested AND groups)
on a column of the queryset's own table have ``can_bound_index=True``: a
database may use them to bound an index scan. A leaf under an OR or a NOT, on
a joined table, or whose left side is an expression (``date__year=...``,
``Lower("name")``) is still reported, with ``can_bound_index=False``.

:func:`without_condition` returns a copy of a queryset with one bounding
condition removed, so a caller can replace it (for example an IN list by one
``= value`` branch per value).

The tree is read through :mod:`rangeqs._django.query`. Where it cannot be
read (a Django release whose query internals fail its self-check),
:func:`where_conditions` reports no condition and :func:`filters_readable` is
false: a caller that would act on the filters (pick an IN-list plan, guard a
page, name an index) must ask it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Range,
)

from rangeqs._django.query import (
    filters,
    holds_leaf,
    private_analysis,
    without_leaf,
)

if TYPE_CHECKING:
    from django.db.models import Field, QuerySet
    from django.db.models.lookups import Lookup

    from rangeqs._django.query import Leaf

__all__ = [
    "Condition",
    "ConditionKind",
    "filters_readable",
    "where_conditions",
    "without_condition",
]

ConditionKind = Literal["exact", "in", "range", "isnull", "other"]

_RANGE_LOOKUPS = (GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual, Range)


@dataclass(frozen=True, eq=False)
class Condition:
    """One leaf of a queryset's WHERE tree.

    ``kind`` is ``"exact"`` (``=``), ``"in"`` (``IN``), ``"range"`` (``>``,
    ``>=``, ``<``, ``<=``, ``BETWEEN``), ``"isnull"`` or ``"other"`` (every
    other lookup, and leaves that are not lookups, such as ``extra(where=...)``).
    """

    #: The Django ``Lookup`` (``None`` for a leaf that is not a lookup).
    lookup: Lookup[Any] | None
    #: The model field on the left side, when it is a plain column.
    field: Field[Any, Any] | None
    #: The database column of ``field``.
    column: str | None
    kind: ConditionKind
    #: The literal right-hand values after Django's preparation: one value for
    #: ``exact`` and each comparison, the list for ``in``, ``(low, high)`` for
    #: ``range``, ``(True,)``/``(False,)`` for ``isnull``. ``None`` when the
    #: right side is an expression or a subquery.
    values: tuple[Any, ...] | None
    #: AND-ed at the top level, on a column of the queryset's own table.
    can_bound_index: bool
    #: Child positions from ``query.where`` down to this leaf.
    path: tuple[int, ...]
    #: AND-ed at the top level on a plain column of the queryset's own
    #: table, whatever its kind: every row the queryset returns meets it
    #: (``a = F("b")`` included, which bounds no index).
    holds_for_every_row: bool = False

    @property
    def lookup_name(self) -> str | None:
        return self.lookup.lookup_name if self.lookup is not None else None

    @property
    def fixes_value(self) -> bool:
        """Pins its column to one value for the whole query (``= v``, ``IS NULL``).

        An index column pinned this way keeps the next index column in order.
        A subquery on the right of ``=`` also pins it: it is one value per query.
        """
        if not self.can_bound_index:
            return False
        if self.kind == "exact":
            return True
        return self.kind == "isnull" and self.values == (True,)


def where_conditions(queryset: QuerySet[Any]) -> tuple[Condition, ...]:
    """Every leaf of the WHERE tree of ``queryset``, in tree order; none
    where the filters cannot be read (see :func:`filters_readable`)."""
    leaves = filters(queryset)
    if leaves is None:
        return ()
    return tuple(_condition(leaf) for leaf in leaves)


def filters_readable() -> bool:
    """Whether the filters of querysets can be read on this Django release
    (:mod:`rangeqs._django.query`); when not, :func:`where_conditions` reports
    none, and no caller may take that for "no filters"."""
    return private_analysis()


def without_condition(queryset: QuerySet[Any], condition: Condition) -> QuerySet[Any]:
    """A copy of ``queryset`` without ``condition`` (one of its bounding ones).

    ``condition`` must come from ``where_conditions(queryset)`` and have
    ``can_bound_index=True``: removing a leaf of an OR or a NOT would change
    what the rest means.
    """
    if not condition.can_bound_index:
        raise ValueError(
            "Only a condition AND-ed at the top level can be removed; "
            f"{condition.column!r} is under an OR or a NOT, or on a joined table."
        )
    if not holds_leaf(queryset, condition.path, condition.lookup):
        raise ValueError("The condition was read from another queryset.")
    return without_leaf(queryset, condition.path)


def _condition(leaf: Leaf) -> Condition:
    if leaf.lookup is None or leaf.field is None:
        return Condition(
            lookup=leaf.lookup,
            field=None,
            column=None,
            kind="other",
            values=None,
            can_bound_index=False,
            path=leaf.path,
        )
    kind = _kind_of(leaf)
    on_own_table = leaf.anded and leaf.on_own_table
    return Condition(
        lookup=leaf.lookup,
        field=leaf.field,
        column=leaf.field.column,
        kind=kind,
        values=_literal_values(leaf.lookup, kind) if leaf.right == "values" else None,
        can_bound_index=on_own_table and kind != "other",
        path=leaf.path,
        holds_for_every_row=on_own_table,
    )


def _kind_of(leaf: Leaf) -> ConditionKind:
    lookup = leaf.lookup
    # `a = F("b")` compares two columns of one row: it pins nothing.
    if leaf.right == "columns":
        return "other"
    if isinstance(lookup, Exact):
        return "exact"
    if isinstance(lookup, In):
        return "in"
    if isinstance(lookup, _RANGE_LOOKUPS):
        return "range"
    if isinstance(lookup, IsNull):
        return "isnull"
    return "other"


def _literal_values(lookup: Lookup[Any], kind: ConditionKind) -> tuple[Any, ...]:
    rhs = lookup.rhs
    if kind == "in" or isinstance(lookup, Range):
        return tuple(rhs)
    if kind == "isnull":
        return (bool(rhs),)
    return (rhs,)
