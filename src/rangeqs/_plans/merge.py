"""The merge plan: global key order over ``col IN (...)`` from one branch per value.

``order_by="id"`` over ``group_id IN (v1, v2, ...)`` with an index
``(group_id, id)``: each value's rows are in id order in the index, but no
database merges the values for an IN list (findings §1); each sorts every
remaining match instead. A merge page asks for the next ``step`` keys of
each value separately and merges them::

    (SELECT id FROM t WHERE group_id = v1 AND id > z ORDER BY id LIMIT step)
    UNION ALL (... v2 ...) ...
    ORDER BY 1 LIMIT step

PostgreSQL runs that as a Merge Append of index scans. SQLite allows no
LIMIT in the members of a UNION: there the branches are subqueries whose
primary keys feed ``pk IN (...)``, which SQLite reads in primary key order.
MariaDB sorts the at most ``branches x step`` keys the branches return, never
the remaining rows. A second query fetches the page's rows by primary key,
so the rows have whatever shape the caller's queryset gives them.

Django builds and compiles each branch once per page size; a page only
compiles its position bound and splices it into every branch, because
building a hundred querysets costs more than running the page.

Planning grows with the branches: the plan takes at most
:data:`MERGE_MAX_VALUES` distinct values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import CharField, F, Q, TextField
from django.db.models.lookups import Lookup

from rangeqs._inlist import in_list_condition
from rangeqs._keyset import after as after_condition
from rangeqs._plans.base import Plan
from rangeqs._where import without_condition

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Expression, QuerySet
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from rangeqs._keys import Key

__all__ = ["MERGE_MAX_VALUES", "MergePlan"]

#: The most values a merge page unions: a 100-branch query takes about 1.6 ms
#: to plan on PostgreSQL 15 and 18, as long as the page itself.
MERGE_MAX_VALUES = 100

# Stand-ins that a page replaces with SQL Django compiled.
_BOUND = "rangeqs_merge_bound"
_BRANCHES = "rangeqs_merge_branches"


class MergePlan(Plan):
    """Pages in the keys' global order, merged from one index walk per value."""

    name = "merge"

    def __init__(self, queryset: QuerySet[Any, Any], keys: Sequence[Key]) -> None:
        super().__init__(queryset, keys)
        condition = in_list_condition(self.queryset, not_column=self.keys[0].name)
        assert condition is not None
        assert condition.field is not None
        assert condition.values is not None
        self._column = condition.field.attname
        self._others = without_condition(self.queryset, condition)
        self._values = list(dict.fromkeys(v for v in condition.values if v is not None))
        assert len(self._values) <= MERGE_MAX_VALUES
        # Two listed strings may be equal in the column's collation ('a' and
        # 'A' case-insensitively): their branches return the same rows, so
        # the database drops the repeats. Other values compare as in Python.
        self._distinct = isinstance(condition.field, (CharField, TextField))
        pk = self.queryset.model._meta.pk
        assert pk is not None
        names = [key.name for key in self.keys]
        self._selected = names if pk.attname in names else [*names, pk.attname]
        self._pk_index = self._selected.index(pk.attname)
        self._statements: dict[int, _Statement] = {}

    def fetch_page(self, after: tuple[Any, ...] | None, size: int) -> list[Any]:
        if not self._values:
            return []
        connection = connections[self.queryset.db]
        bound = Q() if after is None else after_condition(self.keys, after, connection)
        try:
            compiled_bound = self._compile(bound, connection)
        except EmptyResultSet:
            return []  # The position is past the last possible key.
        sql, params = self._statement(size, connection).render(compiled_bound)
        self.queries += 1
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            positions = cursor.fetchall()
        if not positions:
            return []
        pks = [position[self._pk_index] for position in positions]
        rows = self.run(self.ordered(self.queryset.filter(pk__in=pks)))
        if len(rows) < len(positions) == size:
            # Rows deleted between the two queries: a short page would end the
            # iteration, so fill it from after the last merged position.
            last = tuple(positions[-1][: len(self.keys)])
            rows += self.fetch_page(last, size - len(rows))
        return rows

    def _statement(self, size: int, connection: BaseDatabaseWrapper) -> _Statement:
        if size not in self._statements:
            self._statements[size] = self._build_statement(size, connection)
        return self._statements[size]

    def _build_statement(
        self, size: int, connection: BaseDatabaseWrapper
    ) -> _Statement:
        # SQLite allows no LIMIT in the members of a UNION, only in subqueries.
        in_subqueries = not connection.features.supports_slicing_ordering_in_compound
        branches = [
            _compile_queryset(
                self.ordered(
                    self._others.filter(
                        Q(**{self._column: value}), _Slot(F("pk"), _BOUND)
                    ).values_list(*(["pk"] if in_subqueries else self._selected))
                )[:size],
                connection,
            )
            for value in self._values
        ]
        orderings = [key.ordering for key in self.keys]
        if in_subqueries:
            outer_sql, outer_params = _compile_queryset(
                self.ordered(
                    self._others.filter(_Slot(F("pk"), f"%s IN ({_BRANCHES})"))
                    .values_list(*self._selected)
                    .order_by(*orderings)
                )[:size],
                connection,
            )
            return _Statement(
                branches,
                joiner=" UNION ALL ",
                branch_template="SELECT * FROM ({})",
                outer=(outer_sql, outer_params),
            )
        if len(branches) == 1:
            return _Statement(
                branches, joiner="", branch_template="{}", outer=(_BRANCHES, [])
            )
        order = ", ".join(
            f"{position} {'DESC' if key.descending else 'ASC'}"
            for position, key in enumerate(self.keys, start=1)
        )
        return _Statement(
            branches,
            joiner=" UNION " if self._distinct else " UNION ALL ",
            branch_template="({})",
            outer=(f"{_BRANCHES} ORDER BY {order} LIMIT {int(size)}", []),
        )

    def _compile(
        self, condition: Q | Expression, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        """SQL for ``condition`` on the queryset's own table."""
        if isinstance(condition, Q) and not condition:
            return "1 = 1", []
        query = self.queryset.model._base_manager.filter(condition).query
        try:
            sql, params = query.get_compiler(connection=connection).compile(query.where)
        except FullResultSet:
            return "1 = 1", []
        return sql, list(params)


@dataclass(frozen=True)
class _Statement:
    """The merged keys query of one page size, compiled but for the position bound."""

    branches: list[tuple[str, list[Any]]]
    joiner: str
    branch_template: str
    outer: tuple[str, list[Any]]

    def render(self, bound: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
        bound_sql, bound_params = bound
        parts: list[str] = []
        params: list[Any] = []
        for sql, branch_params in self.branches:
            before, after = sql.split(_BOUND)
            parts.append(self.branch_template.format(f"{before}({bound_sql}){after}"))
            # The bound's parameters go where its placeholder was.
            split = _placeholders(before)
            params += [*branch_params[:split], *bound_params, *branch_params[split:]]
        outer_sql, outer_params = self.outer
        before, after = outer_sql.split(_BRANCHES)
        split = _placeholders(before)
        sql = f"{before}{self.joiner.join(parts)}{after}"
        return sql, [*outer_params[:split], *params, *outer_params[split:]]


class _Slot(Lookup):
    """A condition Django compiles as ``template``, with ``%s`` standing for the
    compiled left-hand side; the page fills the stand-ins in."""

    lookup_name = "rangeqs_slot"
    prepare_rhs = False

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        template: str = self.rhs
        if "%s" not in template:
            return template, ()
        return template.replace("%s", lhs_sql, 1), tuple(lhs_params)


def _compile_queryset(
    queryset: QuerySet[Any, Any], connection: BaseDatabaseWrapper
) -> tuple[str, list[Any]]:
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def _placeholders(sql: str) -> int:
    # Django writes a literal percent sign as %%, so every %s left is a parameter.
    return sql.replace("%%", "").count("%s")
