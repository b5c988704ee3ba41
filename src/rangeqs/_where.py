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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.db.models.expressions import Col
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Lookup,
    Range,
)
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, WhereNode

if TYPE_CHECKING:
    from django.db.models import Field, QuerySet

__all__ = ["Condition", "ConditionKind", "where_conditions", "without_condition"]

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


def where_conditions(queryset: QuerySet[Any] | Query) -> tuple[Condition, ...]:
    """Every leaf of the WHERE tree of ``queryset``, in tree order."""
    query = queryset if isinstance(queryset, Query) else queryset.query
    found: list[Condition] = []
    # Query.base_table would cache None on a query without aliases yet, which
    # breaks the caller's queryset later; the first alias is the same table.
    base_alias = next(iter(query.alias_map), None)
    _collect(query.where, base_alias, (), bounding=True, found=found)
    return tuple(found)


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
    if _leaf_at(queryset.query.where, condition.path) is not condition.lookup:
        raise ValueError("The condition was read from another queryset.")
    clone = queryset.all()
    node: Any = clone.query.where
    for position in condition.path[:-1]:
        node = node.children[position]
    node.children = [
        child for i, child in enumerate(node.children) if i != condition.path[-1]
    ]
    return clone


def _leaf_at(where: WhereNode, path: tuple[int, ...]) -> Any:
    node: Any = where
    for position in path:
        if not isinstance(node, WhereNode) or position >= len(node.children):
            return None
        node = node.children[position]
    return node


def _collect(
    node: WhereNode,
    base_alias: str | None,
    path: tuple[int, ...],
    *,
    bounding: bool,
    found: list[Condition],
) -> None:
    # A node's children are AND-ed into the top level only if every node on
    # the way down is a non-negated AND.
    bounding = bounding and node.connector == AND and not node.negated
    for position, child in enumerate(node.children):
        child_path = (*path, position)
        if isinstance(child, WhereNode):
            _collect(child, base_alias, child_path, bounding=bounding, found=found)
        else:
            found.append(_read_leaf(child, base_alias, child_path, bounding=bounding))


def _read_leaf(
    leaf: Any, base_alias: str | None, path: tuple[int, ...], *, bounding: bool
) -> Condition:
    if not isinstance(leaf, Lookup) or not isinstance(leaf.lhs, Col):
        return Condition(
            lookup=leaf if isinstance(leaf, Lookup) else None,
            field=None,
            column=None,
            kind="other",
            values=None,
            can_bound_index=False,
            path=path,
        )
    column = leaf.lhs
    kind = _kind_of(leaf)
    on_own_table = bounding and column.alias == base_alias
    return Condition(
        lookup=leaf,
        field=column.target,
        column=column.target.column,
        kind=kind,
        values=_literal_values(leaf, kind),
        can_bound_index=on_own_table and kind != "other",
        path=path,
        holds_for_every_row=on_own_table,
    )


def _kind_of(lookup: Lookup[Any]) -> ConditionKind:
    rhs = lookup.rhs
    # `a = F("b")` compares two columns of one row: it pins nothing.
    if getattr(rhs, "contains_column_references", False) and not isinstance(rhs, Query):
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


def _literal_values(lookup: Lookup[Any], kind: ConditionKind) -> tuple[Any, ...] | None:
    rhs = lookup.rhs
    if isinstance(rhs, Query) or hasattr(rhs, "resolve_expression"):
        return None
    if kind == "in" or isinstance(lookup, Range):
        return tuple(rhs)
    if kind == "isnull":
        return (bool(rhs),)
    return (rhs,)
