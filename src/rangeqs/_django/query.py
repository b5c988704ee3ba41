"""Django's private API for the analysis of a queryset's shape, before any page.

Everything rangeqs reads from ``queryset.query`` to decide whether and how
to page a queryset (its filters, slice, ordering, joins, GROUP BY, row
locks) is here, returned as neutral values: Django's documented ``Lookup``
objects, model fields, relations, numbers and flags. The callers
(``_where``, ``_validate``, ``_inlist``, ``_plans.select``, the wrapper,
``jobs``) never touch ``queryset.query`` themselves. A module of the
foundations layer: it imports no other module of rangeqs.

Contract (checked against Django 5.2, 6.0 and 6.1, the versions in
pyproject.toml's classifiers):

The filters (:func:`filters`, :func:`without_leaf`, :func:`with_leaf`)
    - ``query.where`` is a ``WhereNode`` tree: ``children`` (a list that
      ``Query.clone()`` copies for every node while sharing the leaves),
      ``connector`` (``AND``, ``OR``, ``XOR``) and ``negated``; a leaf is a
      ``Lookup`` or another expression (``extra(where=...)``).
    - A lookup on a model column has a ``Col`` on its left, whose ``alias``
      names its table in ``query.alias_map`` and whose ``target`` is the
      field; the queryset's own table is the first key of ``alias_map``
      (``Query.base_table`` would cache None on a query without aliases).
    - A subquery on a lookup's right is a ``Query``; an expression there
      has ``resolve_expression`` and says with ``contains_column_references``
      whether it reads a column of the row (``F()``).

The shape (:func:`shape`, :func:`slice_stop`, :func:`unsliced`,
:func:`ungrouped`, :func:`locks_rows`, :func:`has_filters`, :func:`statement`)
    - ``low_mark`` and ``high_mark`` are the slice, ``clear_limits()``
      removes it; ``order_by`` and ``extra_order_by`` are the explicit
      ordering, ``standard_ordering`` is False after ``reverse()``;
      ``distinct``, ``combinator`` (``"union"``, ...), ``extra_tables``,
      ``select_for_update`` and ``sql_with_params()`` are what their names
      say.
    - ``group_by`` is None, True (``annotate()`` of an aggregate: every
      column of the model) or a tuple of expressions; ``annotations`` maps
      names to expressions with ``contains_aggregate`` and
      ``contains_over_clause``, and so does ``where``.
    - A joined table is a ``Join`` in ``alias_map`` whose ``join_field`` is
      the relation it follows and whose ``parent_alias`` is the table it
      joins; ``alias_refcount[alias]`` is 0 for a join nothing uses any
      more (``exclude()`` moves it into a subquery), and each column an
      expression reads through a join (a ``Col`` and its ``alias``)
      referenced every join of its path once: ``unref_alias()`` releases
      them, a join of count 0 is left out of FROM.

:func:`self_check` verifies this contract at the first analysis on a Django
release outside :data:`TESTED_DJANGO` (once per process, no query, no
database): two models of a private app registry, a queryset of known
filters read and edited, and querysets of known shape, each compared with
what it must give. A failure selects the fallback.

Fallback (public API only, :func:`private_analysis` false)
    - The filters cannot be read: :func:`filters` returns None. ``_where``
      then reports no condition, ``plan="auto"`` takes the plain plan, an
      explicit ``partition`` or ``merge`` is refused at construction, no
      page is guarded, the advisor says it cannot read the filters.
    - The shape is read from public API only (:func:`sql_shape`): a slice
      from ``order_by()`` refusing a sliced queryset, a set operation from
      ``filter()`` refusing it, the ordering from ``queryset.ordered``, and
      the documented SQL text ``str(queryset.query)``; the wrapper refuses
      a queryset whose text shows a JOIN, DISTINCT, GROUP BY, a set
      operation, OVER, LIMIT or OFFSET, or a second table. Refusing too much
      is the price: nothing accepted can be paged other than exactly.
    - :func:`locks_rows` and :func:`has_filters` answer True (the
      conservative answer), :func:`statement` None.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import django
from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError
from django.db.models import (
    CompositePrimaryKey,
    Count,
    F,
    ForeignObjectRel,
    Q,
    Window,
)
from django.db.models.expressions import Col
from django.db.models.functions import RowNumber
from django.db.models.lookups import Exact, Lookup
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query
from django.db.models.sql.where import AND, WhereNode

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.db.models import Field, QuerySet

__all__ = [
    "TESTED_DJANGO",
    "FailSwitch",
    "Leaf",
    "QueryShape",
    "RightSide",
    "SqlShape",
    "filters",
    "has_filters",
    "holds_leaf",
    "locks_rows",
    "private_analysis",
    "self_check",
    "self_check_fails",
    "shape",
    "slice_stop",
    "sql_shape",
    "statement",
    "tested_release",
    "ungrouped",
    "unsliced",
    "with_leaf",
    "without_leaf",
]

#: The Django feature releases whose private API the seam was checked on
#: (this module's and :mod:`rangeqs._django.pages`').
TESTED_DJANGO = frozenset({(5, 2), (6, 0), (6, 1)})


class FailSwitch:
    """A process-wide test switch: while forced, a self-check fails."""

    def __init__(self) -> None:
        self.on = False

    @contextlib.contextmanager
    def forced(self) -> Iterator[None]:
        previous, self.on = self.on, True
        try:
            yield
        finally:
            self.on = previous


_checked: dict[str, bool] = {}
_checked_lock = threading.Lock()
# Test hook (see self_check_fails): the analysis self-check reports a failure.
_FAIL_SELF_CHECK = FailSwitch()


def private_analysis() -> bool:
    """Whether the shape of querysets is read with Django's private API.

    True on a release in :data:`TESTED_DJANGO`; on any other, when
    :func:`self_check` passes. Read at each analysis, never at import.
    """
    if _FAIL_SELF_CHECK.on:
        return False
    if tested_release():
        return True
    return self_check()


def self_check_fails() -> contextlib.AbstractContextManager[None]:
    """Test hook: inside it the analysis self-check fails (and is not
    cached), so every queryset is analysed with public API only, as on a
    Django release whose query internals changed."""
    return _FAIL_SELF_CHECK.forced()


def tested_release() -> bool:
    """Whether this Django is one of :data:`TESTED_DJANGO`."""
    return tuple(django.VERSION[:2]) in TESTED_DJANGO


# --- the filters ------------------------------------------------------------

#: What a lookup compares its column with: literal values, a subquery, an
#: expression that reads a column of the row (``F()``), another expression.
RightSide = Literal["values", "subquery", "columns", "expression"]


@dataclass(frozen=True, eq=False)
class Leaf:
    """One leaf of a queryset's filters, in public terms."""

    #: The Django ``Lookup`` (None for a leaf that is not one).
    lookup: Lookup[Any] | None
    #: The model field on the lookup's left, when that is a plain column.
    field: Field[Any, Any] | None
    #: That column is of the queryset's own table, not of a joined one.
    on_own_table: bool
    #: Every node above is a non-negated AND: the leaf holds for every row.
    anded: bool
    #: Child positions from the root of the filters down to this leaf.
    path: tuple[int, ...]
    right: RightSide


def filters(queryset: QuerySet[Any, Any]) -> tuple[Leaf, ...] | None:
    """Every leaf of the filters of ``queryset`` in tree order; None when
    they cannot be read (the fallback)."""
    if not private_analysis():
        return None
    return _leaves(queryset.query)


def _leaves(query: Query) -> tuple[Leaf, ...]:
    found: list[Leaf] = []
    # Query.base_table would cache None on a query without aliases yet, which
    # breaks the caller's queryset later; the first alias is the same table.
    own_alias = next(iter(query.alias_map), None)
    _collect(query.where, own_alias, (), anded=True, found=found)
    return tuple(found)


def _collect(
    node: WhereNode,
    own_alias: str | None,
    path: tuple[int, ...],
    *,
    anded: bool,
    found: list[Leaf],
) -> None:
    anded = anded and node.connector == AND and not node.negated
    for position, child in enumerate(node.children):
        child_path = (*path, position)
        if isinstance(child, WhereNode):
            _collect(child, own_alias, child_path, anded=anded, found=found)
        else:
            found.append(_leaf(child, own_alias, child_path, anded=anded))


def _leaf(
    child: Any, own_alias: str | None, path: tuple[int, ...], *, anded: bool
) -> Leaf:
    if not isinstance(child, Lookup):
        return Leaf(None, None, False, anded, path, "expression")
    column = child.lhs if isinstance(child.lhs, Col) else None
    return Leaf(
        lookup=child,
        field=None if column is None else column.target,
        on_own_table=column is not None and column.alias == own_alias,
        anded=anded,
        path=path,
        right=_right_side(child.rhs),
    )


def _right_side(rhs: Any) -> RightSide:
    if isinstance(rhs, Query):
        return "subquery"
    if getattr(rhs, "contains_column_references", False):
        return "columns"
    if hasattr(rhs, "resolve_expression"):
        return "expression"
    return "values"


def holds_leaf(
    queryset: QuerySet[Any, Any], path: tuple[int, ...], lookup: Lookup[Any] | None
) -> bool:
    """Whether ``lookup`` is the leaf at ``path`` of ``queryset``'s filters."""
    if not private_analysis():
        return False
    node: Any = queryset.query.where
    for position in path:
        if not isinstance(node, WhereNode) or position >= len(node.children):
            return False
        node = node.children[position]
    return node is lookup


def without_leaf(
    queryset: QuerySet[Any, Any], path: tuple[int, ...]
) -> QuerySet[Any, Any]:
    """A copy of ``queryset`` without the leaf at ``path`` (from :func:`filters`)."""
    _refuse_edit()
    return _edited(queryset, path, None)


def with_leaf(
    queryset: QuerySet[Any, Any], path: tuple[int, ...], lookup: Lookup[Any]
) -> QuerySet[Any, Any]:
    """A copy of ``queryset`` with ``lookup`` in the place of the leaf at ``path``."""
    _refuse_edit()
    return _edited(queryset, path, lookup)


def _refuse_edit() -> None:
    if not private_analysis():
        # Only a leaf read by filters() can be edited: none is, here.
        raise ValueError("The filters of the queryset cannot be read or edited.")


def _edited(
    queryset: QuerySet[Any, Any], path: tuple[int, ...], lookup: Lookup[Any] | None
) -> QuerySet[Any, Any]:
    clone = queryset.all()
    # Cloning a query clones its WHERE nodes but shares their leaves: edit
    # the copied node, never the original.
    parent: Any = clone.query.where
    for position in path[:-1]:
        parent = parent.children[position]
    if lookup is None:
        parent.children = [
            child for index, child in enumerate(parent.children) if index != path[-1]
        ]
    else:
        parent.children[path[-1]] = lookup
    return clone


# --- the shape --------------------------------------------------------------


@dataclass(frozen=True)
class QueryShape:
    """What a queryset is beyond its filters (read with private API)."""

    offset: int
    #: The slice's stop (``[:n]``), None when unsliced.
    limit: int | None
    #: ``order_by()`` with names, or ``extra(order_by=...)``.
    explicitly_ordered: bool
    #: ``reverse()`` (an odd number of times).
    reversed: bool
    distinct: bool
    #: ``"union"``, ``"intersection"``, ``"difference"`` or None.
    combinator: str | None
    #: GROUP BY: an aggregate in ``annotate()``, or ``values().annotate()``.
    grouped: bool
    #: A GROUP BY that keeps one group per row of the model.
    one_group_per_row: bool
    #: A window expression in the filters or the annotations.
    window: bool
    #: A joined relation that can match a row several times.
    multi_valued_relation: ForeignObjectRel | None
    #: Tables added by ``extra(tables=...)``: a cross join.
    extra_tables: tuple[str, ...] = ()


def shape(queryset: QuerySet[Any, Any]) -> QueryShape:
    """The shape of ``queryset`` (only where :func:`private_analysis`)."""
    query = queryset.query
    annotations = query.annotations.values()
    grouped = query.group_by is not None or any(
        getattr(annotation, "contains_aggregate", False) for annotation in annotations
    )
    window = bool(query.where.contains_over_clause) or any(
        getattr(annotation, "contains_over_clause", False) for annotation in annotations
    )
    return QueryShape(
        offset=query.low_mark,
        limit=query.high_mark,
        explicitly_ordered=bool(query.order_by or query.extra_order_by),
        reversed=not query.standard_ordering,
        distinct=bool(query.distinct),
        combinator=query.combinator,
        grouped=grouped,
        one_group_per_row=grouped and _one_group_per_row(query),
        window=window,
        multi_valued_relation=_multi_valued_join(query),
        extra_tables=tuple(query.extra_tables),
    )


def _one_group_per_row(query: Query) -> bool:
    """GROUP BY keeps one group per row of the model: ``annotate()`` of an
    aggregate without ``values()`` groups by every column of the model (Django
    sets ``group_by = True``), and a ``values()`` grouping that holds the
    primary key cannot merge two rows."""
    if query.group_by is True:
        return True
    if not query.group_by:
        return False
    model = query.model
    assert model is not None
    pk = model._meta.pk
    if isinstance(pk, CompositePrimaryKey):
        return False
    table = model._meta.db_table
    return any(
        isinstance(expression, Col)
        and expression.target is pk
        # The model's own table, not a joined row of the same model.
        and query.alias_map.get(expression.alias) is not None
        and query.alias_map[expression.alias].table_name == table
        and not isinstance(query.alias_map[expression.alias], Join)
        for expression in query.group_by
    )


def _multi_valued_join(query: Query) -> ForeignObjectRel | None:
    for alias, join in query.alias_map.items():
        if not isinstance(join, Join) or not query.alias_refcount.get(alias):
            continue
        relation = join.join_field
        if isinstance(relation, ForeignObjectRel) and not relation.one_to_one:
            return relation
    return None


def ungrouped(queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any] | None:
    """``queryset``'s rows of the model without its GROUP BY and the
    aggregates that made it, the joins they alone read dropped: the rows
    whose keys a grouped page reads first, then looks up grouped.

    ``queryset`` itself when it is not grouped; None when no such rows can
    stand for its groups: on the fallback, when a filter is on an aggregate
    (HAVING) or a group may hold several rows, and when a relation that can
    match a row several times stays joined.
    """
    if not private_analysis():
        return None
    return _ungrouped(queryset)


def _ungrouped(queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any] | None:
    query = queryset.query
    if query.group_by is None:
        return queryset
    if query.where.contains_aggregate or not _one_group_per_row(query):
        return None
    clone = queryset.all()
    query = clone.query
    dropped = {
        name
        for name, annotation in query.annotations.items()
        if getattr(annotation, "contains_aggregate", False)
    }
    for name in dropped:
        for alias in _joins_read(query, query.annotations.pop(name)):
            query.unref_alias(alias)
    if query.annotation_select_mask is not None:
        query.set_annotation_mask(set(query.annotation_select_mask) - dropped)
    query.group_by = None
    if _multi_valued_join(query) is not None:
        return None
    return clone


def _joins_read(query: Query, expression: Any) -> Iterator[str]:
    """The joined aliases each column of ``expression`` was joined by, once
    per column, as ``setup_joins`` referenced them."""
    for node in expression.flatten():
        if not isinstance(node, Col):
            continue
        alias = node.alias
        while isinstance(join := query.alias_map.get(alias), Join):
            yield alias
            alias = join.parent_alias


def slice_stop(queryset: QuerySet[Any, Any]) -> int | None:
    """The slice's stop of ``queryset`` (``[:n]``); None when unsliced, and
    on the fallback, whose shape check refuses every slice."""
    if not private_analysis():
        return None
    return queryset.query.high_mark


def unsliced(queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
    """A copy of ``queryset`` without its slice (the fallback's are unsliced)."""
    clone = queryset.all()
    if private_analysis():
        clone.query.clear_limits()
    return clone


def locks_rows(queryset: QuerySet[Any, Any]) -> bool:
    """Whether ``queryset`` locks its rows (``select_for_update()``); True
    when that cannot be read."""
    if not private_analysis():
        return True
    return bool(queryset.query.select_for_update)


def has_filters(queryset: QuerySet[Any, Any]) -> bool:
    """Whether ``queryset`` filters its rows at all; True when that cannot
    be read."""
    if not private_analysis():
        return True
    return bool(queryset.query.where)


def statement(queryset: QuerySet[Any, Any]) -> tuple[str, tuple[Any, ...]] | None:
    """The SQL and parameters of ``queryset`` on the default database; None
    on the fallback."""
    if not private_analysis():
        return None
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


# --- the fallback's shape, from public API ----------------------------------


@dataclass(frozen=True)
class SqlShape:
    """What public API tells of a queryset's shape."""

    #: ``order_by()`` refused it: a slice has been taken.
    sliced: bool = False
    #: ``filter()`` refused it: a set operation (``union()``, ...).
    combined: bool = False
    explicitly_ordered: bool = False
    reversed: bool = False
    #: What the SQL text shows that keyset pages may not reproduce.
    shows: str | None = None


_REFUSED_SQL = re.compile(
    r"\b(JOIN|DISTINCT|GROUP BY|HAVING|UNION|INTERSECT|EXCEPT|OVER|LIMIT|OFFSET)\b"
    # extra(tables=...): a second table in the FROM clause, a cross join.
    r"|\bFROM\s+[^\s,()]+\s*,"
)


def sql_shape(queryset: QuerySet[Any, Any]) -> SqlShape:
    """The shape of ``queryset`` read with public API only (the fallback)."""
    try:
        unordered = queryset.order_by()
    except TypeError:
        return SqlShape(sliced=True)
    try:
        unordered.filter(Q())
    except NotSupportedError:
        return SqlShape(combined=True)
    try:
        text = _sql_text(unordered)
    except Exception:
        return SqlShape(shows="SQL that Django cannot render as text")
    found = None if text is None else _REFUSED_SQL.search(text)
    if found is not None:
        return SqlShape(shows=found[1] or "a second table in FROM")
    return SqlShape(
        explicitly_ordered=_explicitly_ordered(queryset, unordered),
        reversed=_reversed(unordered),
    )


def _sql_text(queryset: QuerySet[Any, Any]) -> str | None:
    """The documented ``str(queryset.query)``; None when the filters match
    nothing (every walk of it is empty, whatever its shape)."""
    try:
        return str(queryset.query)
    except EmptyResultSet:
        return None


def _explicitly_ordered(
    queryset: QuerySet[Any, Any], unordered: QuerySet[Any, Any]
) -> bool:
    if not queryset.ordered:
        return False
    default = queryset.model._meta.ordering
    if not default:
        return True
    # Ordered as Meta.ordering orders it, or otherwise.
    return _sql_text(queryset) != _sql_text(unordered.order_by(*default))


def _reversed(unordered: QuerySet[Any, Any]) -> bool:
    """``reverse()`` flips the direction of any ordering given later."""
    column = unordered.model._meta.concrete_fields[0].attname
    text = _sql_text(unordered.order_by(column))
    if text is None:
        return False
    return " DESC" in text[text.rfind("ORDER BY") :]


# --- the self-check ---------------------------------------------------------


def self_check() -> bool:
    """Whether this Django keeps the contract above (cached per process)."""
    if _FAIL_SELF_CHECK.on:
        return False
    with _checked_lock:
        if "analysis" not in _checked:
            try:
                passed = _contract_holds()
            except Exception:
                passed = False
            _checked["analysis"] = passed
        return _checked["analysis"]


_models: tuple[Any, Any] | None = None


def _check_models() -> tuple[Any, Any]:
    """A parent and a child model in an app registry of their own: known
    to nothing else, and never given a table."""
    global _models  # noqa: PLW0603 - built once per process
    if _models is None:
        from django.apps.registry import Apps  # noqa: PLC0415
        from django.db import models  # noqa: PLC0415

        # An app of its own (this package, which has no models module), so
        # that the registry knows the child's reverse relation.
        registry = Apps(["rangeqs._django"])

        class Parent(models.Model):
            number = models.IntegerField(null=True)

            class Meta:
                apps = registry
                app_label = "_django"

            def __str__(self) -> str:
                return f"Parent {self.pk}"

        class Child(models.Model):
            parent = models.ForeignKey(Parent, models.CASCADE, related_name="children")

            class Meta:
                apps = registry
                app_label = "_django"

            def __str__(self) -> str:
                return f"Child {self.pk}"

        _models = (Parent, Child)
    return _models


def _contract_holds() -> bool:
    parent, child = _check_models()
    return _filters_hold(parent, child) and _shapes_hold(parent)


def _filters_hold(parent: Any, child: Any) -> bool:
    number, pk = parent._meta.get_field("number"), parent._meta.pk
    queryset = parent.objects.filter(id__gt=F("number")).filter(
        Q(id=3) | ~Q(id=4), number__in=[1, 2], id__in=child.objects.values("parent_id")
    )
    leaves = _leaves(queryset.query)
    read = [
        (_name(leaf), leaf.field, leaf.on_own_table, leaf.anded, leaf.right)
        for leaf in leaves
    ]
    if read != [
        ("gt", pk, True, True, "columns"),
        ("exact", pk, True, False, "values"),
        ("exact", pk, True, False, "values"),
        ("in", pk, True, True, "subquery"),
        ("in", number, True, True, "values"),
    ]:
        return False
    listed = leaves[-1]
    assert listed.lookup is not None
    without = _leaves(_edited(queryset, listed.path, None).query)
    replaced = _leaves(
        _edited(queryset, listed.path, Exact(listed.lookup.lhs, 7)).query
    )
    return (
        list(listed.lookup.rhs) == [1, 2]
        and [_name(leaf) for leaf in without] == ["gt", "exact", "exact", "in"]
        and replaced[-1].lookup is not None
        and (_name(replaced[-1]), replaced[-1].lookup.rhs) == ("exact", 7)
        # The original keeps its leaf.
        and _leaves(queryset.query)[-1].lookup is listed.lookup
    )


def _name(leaf: Leaf) -> str | None:
    return None if leaf.lookup is None else leaf.lookup.lookup_name


def _shapes_hold(parent: Any) -> bool:
    base = parent.objects.all()
    # Each queryset, and how its shape differs from a plain one's.
    shapes: dict[str, tuple[QuerySet[Any, Any], dict[str, Any]]] = {
        "plain": (base, {}),
        "sliced": (base[2:5], {"offset": 2, "limit": 5}),
        "ordered": (
            base.order_by("number").reverse(),
            {"explicitly_ordered": True, "reversed": True},
        ),
        "distinct": (base.distinct(), {"distinct": True}),
        "union": (base.union(base), {"combinator": "union"}),
        "per row": (
            base.annotate(n=Count("children")),
            {
                "grouped": True,
                "one_group_per_row": True,
                "multi_valued_relation": parent._meta.get_field("children"),
            },
        ),
        "merged": (
            base.values("number").annotate(n=Count("id")),
            {"grouped": True},
        ),
        "window": (base.annotate(r=Window(RowNumber())), {"window": True}),
        "joined": (
            base.filter(children__id=5),
            {"multi_valued_relation": parent._meta.get_field("children")},
        ),
        "excluded": (base.exclude(children__id=5), {}),
        "extra tables": (
            base.extra(tables=["other"]),
            {"extra_tables": ("other",)},
        ),
    }
    plain = QueryShape(0, None, False, False, False, None, False, False, False, None)
    for sample, differences in shapes.values():
        if shape(sample) != dataclasses.replace(plain, **differences):
            return False
    # Without its aggregate, the join it read and its GROUP BY, a queryset
    # grouped by its rows is plain; one grouped by a filter's aggregate has
    # no such rows.
    per_row = _ungrouped(base.annotate(n=Count("children")).filter(number=1))
    if per_row is None or shape(per_row) != plain:
        return False
    if _ungrouped(base.annotate(n=Count("children")).filter(n__gt=1)) is not None:
        return False
    # Read as locks_rows() and has_filters() read them (which would ask for
    # this check again).
    return (
        bool(base.select_for_update().query.select_for_update)
        and not base.query.select_for_update
        and bool(base.filter(id=1).query.where)
        and not base.query.where
    )
