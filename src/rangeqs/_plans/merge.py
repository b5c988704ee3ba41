"""The merge plan: global key order over ``col IN (...)`` from one branch per value.

``order_by="id"`` over ``group_id IN (v1, v2, ...)`` with an index
``(group_id, id)``: each value's rows are in id order in the index, but no
database merges the values for an IN list (findings §1); each sorts every
remaining match instead. A merge page asks for the next ``step`` rows of
each value separately and merges them, in one statement:

- PostgreSQL, when the IN column is an integer or text whose serving index
  reads a range of one value in the keys' order: the page's keys come from
  the serving index, a share of each value's next keys from one subquery
  run for each listed value, and its rows by primary key
  (``MergePlan._prepare_bounded_keys``): a branch ``group_id = v AND id > z
  ORDER BY id`` could also be read from the primary key in order (by
  ``(seen, id)``, from an index on them), and the planner takes that way
  when it expects ``v`` sooner than it comes.
- PostgreSQL otherwise runs ``(SELECT <row> ... WHERE group_id = v1 AND id
  > z ORDER BY id LIMIT step) UNION ALL (... v2 ...) ... ORDER BY id LIMIT
  step`` as a Merge Append that pulls rows from the branches only as the
  outer LIMIT needs them: each branch descends its index once and fetches
  the rows it contributes, nothing more.
- SQLite and MariaDB have no such merge: they would run every branch to its
  LIMIT. There the branches select keys only, from the index, and the page
  is ``WHERE pk IN (<the merged keys>) ORDER BY id LIMIT step``. SQLite
  allows no LIMIT in the members of a UNION, so its branches are
  subqueries; MariaDB sorts the at most ``branches x step`` keys they
  return, never the remaining rows, and allows no LIMIT directly inside IN,
  so the merged keys are a derived table.

Either way the page is the caller's queryset with one more condition, so the
rows have whatever shape the caller asked for. Each page statement is
compiled once per page size and NULL pattern of the position, with
:class:`~rangeqs._plans.prepared.Slot` parameters in every branch, and then
rebound (see :mod:`rangeqs._plans.prepared`).

Planning grows with the branches: the plan takes at most
:data:`MERGE_MAX_VALUES` distinct values. A branch is made for each class
of listed values that the column finds equal, as the database finds them
(text under the column's collation): two branches never share a row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import F, FloatField, Q
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Lookup

from rangeqs import _django
from rangeqs._django.query import ungrouped
from rangeqs._inlist import in_list_condition, in_values, rewrite_in_lists
from rangeqs._listed import (
    db_values,
    equal_as_range,
    is_text,
    matchable_values,
    values_table,
)
from rangeqs._plans.base import PageStrategy
from rangeqs._plans.prepared import (
    KeyColumns,
    PreparedPage,
    evaluate,
    null_pattern,
    slots_for,
    slotted_after,
)
from rangeqs._where import without_condition

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Expression, Field, QuerySet
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from rangeqs._keys import Key
    from rangeqs._plans.bounded import PageGuard

__all__ = ["MERGE_MAX_VALUES", "MergePlan", "key_share"]

#: The most values a merge page unions: a 100-branch query takes about 1.6 ms
#: to plan on PostgreSQL 15 and 18, as long as the page itself.
MERGE_MAX_VALUES = 100

# The name under which a merge branch selects the primary key.
_MERGED_PK = "rangeqs_pk"

# The first sort key of a page by keys other than the primary key: one value
# for every row, which changes no order, but volatile, so that no index gives
# the page's order. Its rows, looked up by key, are sorted (at most a page of
# them); with sorts off an index that gives the keys' order would otherwise
# be walked for them, filtering out every other row, to save that sort.
_SORTED_ROWS_FIRST = RawSQL("random() * 0", (), output_field=FloatField())

# The planners whose ordered UNION ALL reads its branches lazily.
_LAZY_MERGE_VENDORS = frozenset({"postgresql"})


class MergePlan(PageStrategy):
    """Pages in the keys' global order, merged from one index walk per value."""

    name = "merge"
    walks_list = "other"

    def __init__(self, queryset: QuerySet[Any, Any], keys: Sequence[Key]) -> None:
        super().__init__(queryset, keys)
        condition = in_list_condition(self.queryset, not_column=self.keys[0].name)
        assert condition is not None
        assert condition.field is not None
        assert condition.values is not None
        self._column = condition.field.attname
        self._field = condition.field
        self._others = without_condition(self.queryset, condition)
        # The rows whose keys a page reads first: a queryset grouped by its
        # rows (an aggregate annotation) would group a value's keys before
        # ordering them.
        self._key_rows = ungrouped(self._others)
        assert condition.lookup is not None
        self._listed = in_values(condition.lookup.lhs, condition.values)
        assert len(set(condition.values)) <= MERGE_MAX_VALUES
        # Found by the database at the first page (no query at construction).
        self._values: list[Any] | None = None
        self._union = " UNION ALL "
        self._pages: dict[tuple[int, tuple[bool, ...] | None], PreparedPage] = {}

    def _branch_values(self, connection: BaseDatabaseWrapper) -> list[Any]:
        """One listed value per class of values the column finds equal.

        Two listed values that the column's comparison finds equal ('a' and
        'A' under a case-insensitive collation) would make two branches of
        the same rows: the database picks one value of each class.
        """
        if self._values is None:
            listed = matchable_values(self._field, self._listed.rhs, connection)
            distinct = None
            if is_text(self._field) and len(listed) > 1:
                distinct = self._listed.distinct_values(connection)
            if distinct is not None:
                self.queries += 1
                self._values = distinct
            else:
                # Numbers, dates and UUIDs are equal in Python exactly when
                # they are in the database. Text without a table of its values
                # here: a UNION drops the rows two branches both return.
                self._values = listed
                if is_text(self._field):
                    self._union = " UNION "
        return self._values

    def fetch_page(self, after: tuple[Any, ...] | None, size: int) -> Sequence[Any]:
        if not self._branch_values(connections[self.queryset.db]):
            return []
        shape = (size, None if after is None else null_pattern(after))
        page = self._pages.get(shape)
        if page is None:
            page = self._pages[shape] = self._prepare(after, size)
        return page.rows(() if after is None else after)

    def _prepare(self, after: tuple[Any, ...] | None, size: int) -> PreparedPage:
        connection = connections[self.queryset.db]
        if after is None:
            bound: Q | Expression = Q()
            fields = []
        else:
            bound = slotted_after(self.keys, slots_for(self.keys, after), connection)
            fields = [key.field for key in self.keys]
        if self._reads_keys_first(connection):
            return self._prepare_bounded_keys(bound, fields, size, connection)
        branches = [
            self._branch(value, bound) for value in self._branch_values(connection)
        ]
        if len(branches) == 1:
            return PreparedPage(
                branches[0][:size],
                fields,
                guard=self.guard,
                compiled=self.compiled_pages,
            )
        if not self.compiled_pages:
            return _CandidatePage(
                self.queryset,
                [branch[:size] for branch in branches],
                fields,
                keys=self.keys,
                guard=self.guard,
            )
        if connection.vendor in _LAZY_MERGE_VENDORS:
            page = _UnionPage(
                [branch[:size] for branch in branches],
                fields,
                keys=self.keys,
                union=self._union,
                guard=self.guard,
            )
            if page.key_columns(connection) is not None:
                return page
        merged = self._merged_keys(branches, size, connection)
        return PreparedPage(
            self.ordered(self.queryset.filter(_InMergedKeys(F("pk"), merged)))[:size],
            fields,
            guard=self.guard,
        )

    def _branch(self, value: Any, bound: Q | Expression) -> QuerySet[Any, Any]:
        return self.ordered(self._others.filter(Q(**{self._column: value}), bound))

    def _reads_keys_first(self, connection: BaseDatabaseWrapper) -> bool:
        """Whether a page reads its keys from the serving index first, then
        its rows by key."""
        return (
            self.guard is not None
            and connection.vendor in _LAZY_MERGE_VENDORS
            and self._key_rows is not None
            and self.compiled_pages
            # A value's keys are a range of the IN column, which the serving
            # index reads in the keys' order.
            and equal_as_range(self._field)
            and self.guard.range_order is not None
        )

    def _prepare_bounded_keys(
        self,
        bound: Q | Expression,
        fields: list[Field[Any, Any]],
        size: int,
        connection: BaseDatabaseWrapper,
    ) -> PreparedPage:
        """PostgreSQL: the page's keys from the serving index, then its rows.

        A branch ``col = v AND id > z ORDER BY id LIMIT size`` is ordered by
        the primary key too: when the statistics overcount ``v``, the
        planner walks the primary key and filters out every row of the
        other values up to the rows of ``v``, and turning the sorts off
        does not stop it. Here a value's keys come from ``col >= v AND col
        <= v AND id > z ORDER BY col, id``, the same rows (text compares
        under the column's collation, whose ``=`` and order agree, even a
        nondeterministic one's): no equality makes ``col`` a constant, so
        only an index that leads with ``(col, id)`` reads them in that
        order, and every other way needs a sort, which the guard turns off.
        The keys are read from the index alone where it holds every filtered
        column; a filter on another column is checked on the row each entry
        points to.

        One subquery, run once per listed value (a lateral join over the
        values in one array parameter), takes the first ``share`` keys of
        each value; the page's keys are the first ``size`` of those up to
        the nearest last key of a value that had ``share`` of them (every
        key of every value up to there is among them). When fewer than
        ``size`` are, the statement takes ``size`` keys of each value
        instead, as though ``share`` were ``size``: a page reads at most
        ``values x share`` keys, then ``values x size``, never more. The
        rows are looked up by those keys in the primary key (``=
        ANY(ARRAY(...))``, computed once: ``IN (...)`` would be a join,
        which the planner may run as a walk of the primary key).

        Keys other than the primary key alone (``seen, id``) are numbered
        in the page's order, and the cut is a number; the page's rows, looked
        up by primary key, are sorted by them: at most ``size`` rows, behind
        a first sort key no index gives (``_SORTED_ROWS_FIRST``). The
        subquery reads them in the serving index's order
        (``PageGuard.range_order``), the IN column where the index has it.

        A queryset grouped by its rows reads its keys from its rows
        ungrouped (``rangeqs._django.query.ungrouped``) and groups the page's
        rows.
        """
        assert self.guard is not None
        assert self.guard.range_order is not None
        assert self._key_rows is not None
        values = self._branch_values(connection)
        table = values_table(
            self._field, db_values(self._field, values, connection), connection
        )
        assert table is not None
        # The value that the lateral subquery over rangeqs_values is run for.
        listed = RawSQL("rangeqs_values.v", (), output_field=self._field)
        # The primary key alone is compared as itself; other keys by their
        # number in the page's order, beside the primary key that finds the
        # page's rows.
        by_pk = len(self.keys) == 1 and bool(self.keys[0].field.primary_key)
        selected = ["pk"] if by_pk else [*(key.name for key in self.keys), "pk"]
        orderings = [key.ordering for key in self.keys]
        first_keys = (
            self._key_rows.filter(
                Q(**{f"{self._column}__gte": listed, f"{self._column}__lte": listed}),
                bound,
            )
            .order_by(*self.guard.range_order)
            .values_list(*selected)
        )
        shared = _SharedKeys(
            values=table,
            keys=first_keys,
            share=key_share(size, len(values)),
            size=size,
            directions=tuple(key.descending for key in self.keys),
            by_pk=by_pk,
            repeats=is_text(self._field),
        )
        # By the primary key alone, the rows are read from it in order: no
        # sort.
        first = [] if by_pk else [_SORTED_ROWS_FIRST]
        page = self.queryset.filter(_InMergedKeys(F("pk"), shared)).order_by(
            *first, *orderings
        )
        guard = self.guard.sorting_bounded_sets()
        return PreparedPage(page[:size], fields, guard=guard)

    def _merged_keys(
        self,
        branches: list[QuerySet[Any, Any]],
        size: int,
        connection: BaseDatabaseWrapper,
    ) -> _MergedKeys:
        """The primary keys of the next ``size`` rows of all branches together."""
        if not connection.features.supports_slicing_ordering_in_compound:
            # SQLite: no LIMIT in the members of a UNION, only in subqueries;
            # it reads ``pk IN (...)`` in primary key order.
            return _MergedKeys(
                [branch.values_list("pk")[:size] for branch in branches],
                joiner=" UNION ALL ",
                branch_template="SELECT * FROM ({})",
            )
        order = ", ".join(
            f"{position} {'DESC' if key.descending else 'ASC'}"
            for position, key in enumerate(self.keys, start=1)
        )
        # The primary key under a name of rangeqs's own, read from the
        # derived table by that name: a column name (db_column) or an attname
        # could bind to the outer table instead.
        names = [key.name for key in self.keys]
        return _MergedKeys(
            [
                branch.annotate(**{_MERGED_PK: F("pk")}).values_list(
                    *names, _MERGED_PK
                )[:size]
                for branch in branches
            ],
            joiner=self._union,
            branch_template="({})",
            # MariaDB allows no LIMIT right inside IN: a derived table.
            template=f"SELECT rangeqs_merged.{_MERGED_PK} FROM ({{}} "
            f"ORDER BY {order} LIMIT {size:d}) AS rangeqs_merged",
        )


class _UnionPage(PreparedPage):
    """Full-row branches, each compiled by Django, in one ordered UNION.

    The rows come out through the first branch's compiler: every branch
    selects the same columns, so the key columns have the same positions.
    """

    def __init__(
        self,
        branches: Sequence[QuerySet[Any, Any]],
        fields: Sequence[Field[Any, Any]],
        *,
        keys: Sequence[Key],
        union: str,
        guard: PageGuard | None = None,
    ) -> None:
        super().__init__(branches[0], fields, guard=guard)
        self.branches = list(branches)
        self.keys = tuple(keys)
        self.union = union

    def key_columns(self, connection: BaseDatabaseWrapper) -> KeyColumns | None:
        """Where the branches select the keys; None if one is missing."""
        compiler = _django.empty_compiler(self.queryset, connection)
        return KeyColumns.find(compiler, [key.name for key in self.keys])

    def compile_sql(
        self, connection: BaseDatabaseWrapper
    ) -> tuple[SQLCompiler, str, tuple[Any, ...]]:
        compiler, first_sql, params = _django.compile_statement(
            self.queryset, connection
        )
        parts = [f"({first_sql})"]
        all_params = list(params)
        for branch in self.branches[1:]:
            _, sql, branch_params = _django.compile_statement(branch, connection)
            parts.append(f"({sql})")
            all_params += branch_params
        columns = KeyColumns.find(compiler, [key.name for key in self.keys])
        assert columns is not None
        order = ", ".join(
            f"{position + 1} {'DESC' if key.descending else 'ASC'}"
            for position, key in zip(columns.positions, self.keys, strict=True)
        )
        limit = _django.high_mark(self.queryset)
        assert limit is not None
        sql = f"{self.union.join(parts)} ORDER BY {order} LIMIT {limit:d}"
        return compiler, sql, tuple(all_params)


class _CandidatePage(PreparedPage):
    """The fallback's merge page (public API only, rangeqs._django).

    The next rows of all branches together are among the first ``size`` of
    each branch: one statement asks the branches for those rows' primary
    keys (a ``union(all=True)`` of sliced querysets; on SQLite, which
    allows no LIMIT in a UNION's members, one statement per branch), and the
    page is the caller's queryset restricted to them, ordered and sliced by
    the database, as the compiled page is.
    """

    def __init__(
        self,
        queryset: QuerySet[Any, Any],
        branches: Sequence[QuerySet[Any, Any]],
        fields: Sequence[Field[Any, Any]],
        *,
        keys: Sequence[Key],
        guard: PageGuard | None = None,
    ) -> None:
        super().__init__(queryset, fields, guard=guard, compiled=False)
        self.branches = [branch.values_list("pk", flat=True) for branch in branches]
        self.keys = tuple(keys)
        self.size = _django.high_mark(branches[0])

    def rows(self, values: Sequence[Any]) -> Sequence[Any]:
        connection = connections[self.queryset.db]
        params = self.converted(values, connection)
        guard = self.guard
        if connection.features.supports_slicing_ordering_in_compound:
            first, *others = self.branches
            union = first.union(*others, all=True)
            candidates = list(evaluate(union, params, guard=guard))
        else:
            candidates = [
                pk
                for branch in self.branches
                for pk in evaluate(branch, params, guard=guard)
            ]
        if not candidates:
            return []
        page = self.queryset.filter(pk__in=candidates).order_by(
            *(key.ordering for key in self.keys)
        )
        # PostgreSQL sorts the candidates (at most branches x size rows):
        # its guard, which turns sorts off, would make it scan an index
        # for the order instead.
        if connection.vendor in _LAZY_MERGE_VENDORS:
            guard = None
        return evaluate(rewrite_in_lists(page)[: self.size], (), guard=guard)


@dataclass(frozen=True)
class _MergedKeys:
    """Branch querysets joined into one subquery of primary keys."""

    branches: list[QuerySet[Any, Any]]
    joiner: str
    branch_template: str
    # ``{}`` stands for the joined branches.
    template: str = "{}"
    # How the page's primary key (``lhs``) is matched with them (``keys``).
    outer: str = "{lhs} IN ({keys})"

    def compile(self, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        for branch in self.branches:
            _, sql, branch_params = _django.compile_statement(branch, connection)
            parts.append(self.branch_template.format(sql))
            params += branch_params
        return self.template.format(self.joiner.join(parts)), params


@dataclass(frozen=True)
class _SharedKeys:
    """The next ``size`` primary keys of a page whose keys the serving index
    gives: the first ``share`` of ``keys`` for each listed value, or the
    first ``size`` when those fall short (see
    ``MergePlan._prepare_bounded_keys``)."""

    #: The listed values as a derived table ``rangeqs_values(v)``.
    values: tuple[str, list[Any]]
    #: One listed value's keys, in the page's order: the primary key alone
    #: (``by_pk``), or the keys and then the primary key.
    keys: QuerySet[Any, Any]
    share: int
    size: int
    #: Each key's direction (``descending``).
    directions: tuple[bool, ...]
    by_pk: bool = True
    #: Two listed values may read the same keys: text, which a collation
    #: Django was not told of may find equal (an integer never repeats).
    repeats: bool = False
    outer: str = "{lhs} = ANY(ARRAY({keys}))"

    def compile(self, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        values_sql, values_params = self.values
        _, share_sql, share_params = _django.compile_statement(
            self.keys[: self.share], connection
        )
        _, whole_sql, whole_params = _django.compile_statement(
            self.keys[: self.size], connection
        )
        if self.by_pk:
            names, columns = ["pk"], "pk"
        else:
            names = [f"k{n}" for n in range(1, len(self.directions) + 1)]
            columns = ", ".join([*names, "pk"])
        # Each key in its direction, NULLs where the database puts them, as
        # the page orders them.
        order = ", ".join(
            f"{name} {'DESC' if descending else 'ASC'}"
            for name, descending in zip(names, self.directions, strict=True)
        )
        if self.by_pk:
            shares, numbered, at = "rangeqs_shares", "", "pk"
            backwards = self.directions[0]
        else:
            # Keys of several columns, of mixed directions or NULL, compare
            # as their number in the page's order.
            shares, at, backwards = "rangeqs_numbered", "rangeqs_at", False
            numbered = (
                "rangeqs_numbered AS MATERIALIZED (SELECT *, row_number() OVER "
                f"(ORDER BY {order}) AS rangeqs_at FROM rangeqs_shares), "
            )
        within = ">=" if backwards else "<="
        last, nearest = ("min", "max") if backwards else ("max", "min")
        # ``cut``: the nearest last key of a value that filled its share (none
        # when none did); every listed value's keys up to it are in the
        # shares. Aggregates, not a window over each value's keys: a
        # HashAggregate, a quarter faster (the benchmark's sparse set,
        # PostgreSQL 15). The second member runs only when the first is
        # short of the page (a one-time filter): never both. Where values
        # may repeat keys, keys are counted and taken once each.
        cut = (
            f"SELECT {nearest}(last) AS at FROM (SELECT {last}({at}) AS last "
            f"FROM {shares} GROUP BY v HAVING count(*) = {self.share:d}) "
            f"AS rangeqs_filled HAVING count(*) > 0"
        )
        up_to_cut = f"{at} {within} (SELECT at FROM rangeqs_cut)"
        once = "DISTINCT " if self.repeats else ""
        sql = (
            "WITH rangeqs_shares AS MATERIALIZED ("
            f"SELECT rangeqs_values.v, rangeqs_next.* FROM {values_sql} "
            f"CROSS JOIN LATERAL ({share_sql}) AS rangeqs_next({columns})), "
            f"{numbered}rangeqs_cut AS MATERIALIZED ({cut}), "
            "rangeqs_enough AS MATERIALIZED (SELECT NOT EXISTS (SELECT FROM "
            f"rangeqs_cut) OR (SELECT count(*) FROM (SELECT {once}pk FROM "
            f"{shares} WHERE {up_to_cut}) AS rangeqs_within) >= {self.size:d} "
            "AS enough) "
            f"SELECT pk FROM (SELECT {once}{columns} FROM ("
            f"SELECT {columns} FROM {shares} WHERE (NOT EXISTS (SELECT FROM "
            f"rangeqs_cut) OR {up_to_cut}) AND (SELECT enough FROM rangeqs_enough) "
            f"UNION ALL SELECT rangeqs_next.* FROM {values_sql} CROSS JOIN LATERAL "
            f"({whole_sql}) AS rangeqs_next({columns}) "
            "WHERE NOT (SELECT enough FROM rangeqs_enough)"
            f") AS rangeqs_merged ORDER BY {order} LIMIT {self.size:d}) AS rangeqs_page"
        )
        params = [*values_params, *share_params, *values_params, *whole_params]
        return sql, params


def key_share(size: int, values: int) -> int:
    """How many keys of each of ``values`` listed values a page of ``size``
    rows reads first from the serving index.

    The page keeps the keys up to the nearest last key of a value that
    filled its share, so the share must outlast the page on the value that
    comes to it first. On values whose rows interleave at random, a value's
    ``share``-th key comes after about ``share`` rows of its own, give or
    take ``sqrt(share)``, and the nearest of ``values`` of them comes about
    ``sqrt(2 ln values)`` of those spreads early: the share is the smallest
    whose nearest last key still lies past ``size / values`` rows of every
    value, with one spread to spare.
    """
    if values <= 1:
        return size
    spread = math.sqrt(2 * math.log(values)) + 1
    root = (spread + math.sqrt(spread * spread + 4 * size / values)) / 2
    return max(1, min(size, math.ceil(root * root)))


class _InMergedKeys(Lookup):
    """``lhs IN (<merged keys>)``, compiled with the branches' own parameters."""

    lookup_name = "rangeqs_in_merged_keys"
    prepare_rhs = False

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        merged: _MergedKeys | _SharedKeys = self.rhs
        sql, params = merged.compile(connection)
        return merged.outer.format(lhs=lhs_sql, keys=sql), (*lhs_params, *params)
