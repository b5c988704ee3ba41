"""The merge plan: global key order over ``col IN (...)`` from one branch per value.

``order_by="id"`` over ``group_id IN (v1, v2, ...)`` with an index
``(group_id, id)``: each value's rows are in id order in the index, but no
database merges the values for an IN list (findings §1); each sorts every
remaining match instead. A merge page asks for the next ``step`` keys of
each value separately and merges them::

    SELECT id FROM (
        (SELECT id FROM t WHERE group_id = v1 AND id > z ORDER BY id LIMIT step)
        UNION ALL (... v2 ...) ...
    ) ORDER BY id LIMIT step

PostgreSQL runs that as a Merge Append of index scans; SQLite and MariaDB
sort the at most ``branches x step`` keys the branches return, never the
remaining rows. A second query fetches the page's rows by primary key, so
the rows have whatever shape the caller's queryset gives them.

Planning grows with the branches: the plan takes at most
:data:`MERGE_MAX_VALUES` distinct values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import CharField, Expression, Q, TextField

from rangeqs._inlist import in_list_condition
from rangeqs._keyset import after as after_condition
from rangeqs._plans.base import Plan
from rangeqs._where import without_condition

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from rangeqs._keys import Key

__all__ = ["MERGE_MAX_VALUES", "MergePlan"]

#: The most values a merge page unions: a 100-branch query takes about 1.6 ms
#: to plan on PostgreSQL 15 and 18, as long as the page itself.
MERGE_MAX_VALUES = 100


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

    def fetch_page(self, after: tuple[Any, ...] | None, size: int) -> list[Any]:
        if not self._values:
            return []
        positions = self.run(self._merged_keys(after, size))
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

    def _merged_keys(
        self, after: tuple[Any, ...] | None, size: int
    ) -> QuerySet[Any, Any]:
        connection = connections[self.queryset.db]
        bound = Q() if after is None else after_condition(self.keys, after, connection)
        branches = [
            self.ordered(
                self._others.filter(Q(**{self._column: value}), bound).values_list(
                    *self._selected
                )
            )[:size]
            for value in self._values
        ]
        if len(branches) == 1:
            return branches[0]
        orderings = [key.ordering for key in self.keys]
        if connection.features.supports_slicing_ordering_in_compound:
            merged = branches[0].union(*branches[1:], all=not self._distinct)
            return merged.order_by(*orderings)[:size]
        # SQLite allows no LIMIT in the members of a UNION, only in subqueries:
        # wrap each branch and merge their primary keys as an IN list, which
        # SQLite reads in primary key order.
        pks = _UnionOfSubqueries([branch.values_list("pk") for branch in branches])
        merged = self._others.filter(pk__in=pks).values_list(*self._selected)
        return self.ordered(merged)[:size]


class _UnionOfSubqueries(Expression):
    """``(SELECT * FROM (<q1>) UNION ALL SELECT * FROM (<q2>) ...)``, each query
    compiled by Django."""

    def __init__(self, querysets: Sequence[QuerySet[Any, Any]]) -> None:
        super().__init__()
        self.querysets = list(querysets)

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        template: str | None = None,
        **extra_context: Any,
    ) -> _AsSqlType:
        parts: list[str] = []
        params: list[Any] = []
        for queryset in self.querysets:
            sql, query_params = queryset.query.get_compiler(
                connection=connection
            ).as_sql()
            parts.append(f"SELECT * FROM ({sql})")
            params.extend(query_params)
        return f"({' UNION ALL '.join(parts)})", tuple(params)
