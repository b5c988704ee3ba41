"""The lookup that sends an IN list as one parameter, rendered per database.

Django renders ``col__in=[...]`` as one bind parameter per value, which
fails past the database's limit (PostgreSQL 65,535 per statement; SQLite
32,766 or 250,000 depending on the build) and costs a large SQL text on
every page. :class:`InValues` sends the whole list as a single parameter
instead, in a form each database still answers from an index on the column:

- PostgreSQL: ``col = ANY(%s::<type>[])``, one array parameter
  (an index scan with ``Index Cond: col = ANY(...)``);
- SQLite: ``col IN (SELECT value FROM json_each(%s))``, one JSON parameter
  (``SEARCH ... USING INDEX (col=?)`` over a ``LIST SUBQUERY``);
- MariaDB 10.6+ and MySQL 8: ``col IN (SELECT v FROM JSON_TABLE(%s, ...))``,
  one JSON parameter (a semi-join probing the index with ``ref``).

The comparison is the column's own, so text values match under the
column's collation; every type, range and collation is derived from the
field by :mod:`rangeqs._listed`. Any other database, values that have no
exact JSON form on SQLite and MariaDB (decimals, dates), and lists that
rangeqs cannot render exactly at all (JSON) keep Django's own ``IN``.

:func:`values_after` restricts a list to the values the database sorts after
a given one, for the partition plan; the queries that put the listed values
in the column's order live in :mod:`rangeqs._inlist.value_order`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db.models.lookups import In

from rangeqs._inlist.value_order import count_through, distinct_in_order
from rangeqs._listed import (
    array_type,
    db_values,
    overflows_driver,
    values_table,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

__all__ = [
    "LONG_LIST",
    "MARIADB_LITERAL_LIST",
    "InValues",
    "count_values_through",
    "in_values",
    "sorted_values",
    "values_after",
]

#: Lists longer than this are sent as one parameter. Shorter ones keep
#: Django's ``IN (%s, ...)``, whose values the planners see one by one.
LONG_LIST = 1000

#: MariaDB turns an IN list of this many values or more into a semi-join
#: (in_predicate_conversion_threshold), which sorts every row it matches.
MARIADB_LITERAL_LIST = 1000


class InValues(In):
    """``col IN (values)`` with the values bound as one parameter.

    ``after`` keeps only the listed values that sort strictly after it
    (before it when ``descending``) in the column's collation: the database
    compares, never Python, with Django's own ``col > value`` lookup.
    """

    after: Any = None
    descending = False

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        values = self._db_values(connection)
        if not values:
            raise EmptyResultSet
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        element = array_type(self.lhs.output_field, connection)
        sql = f"{lhs_sql} = ANY(%s::{element}[])"
        return self._trimmed(compiler, connection, sql, (*lhs_params, values))

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        table = self._table(connection)
        if table is None:
            return self._django_in(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        source, source_params = table
        subquery = f"SELECT rangeqs_values.v FROM {source}"
        params: list[Any] = [*lhs_params, *source_params]
        if self.after is not None:
            # Trimming inside the subquery, rather than with `col > %s` outside,
            # keeps SQLite from reading the rows of every skipped value; `v`
            # has the column's collation.
            subquery += f" WHERE rangeqs_values.v {self._operator} %s"
            params.append(self._db_value(self.after, connection))
        return f"{lhs_sql} IN ({subquery})", tuple(params)

    def as_mysql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        # A short literal list is a set of index ranges that MariaDB reads in
        # index order; a JSON_TABLE semi-join would sort the rows it finds.
        if len(self._db_values(connection)) < MARIADB_LITERAL_LIST:
            return self._django_in(compiler, connection)
        table = self._table(connection)
        if table is None:
            return self._django_in(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        source, source_params = table
        sql = f"{lhs_sql} IN (SELECT rangeqs_values.v FROM {source})"
        return self._trimmed(compiler, connection, sql, (*lhs_params, *source_params))

    def distinct_values(
        self, connection: BaseDatabaseWrapper, *, descending: bool = False
    ) -> list[Any] | None:
        """The listed values, one per class of values the column finds equal,
        in the column's order: one query. None, without a query, where the
        database has no exact table of them."""
        table = self._table(connection)
        if table is None:
            return None
        return distinct_in_order(connection, table, descending=descending)

    def count_through(
        self, connection: BaseDatabaseWrapper, value: Any, *, descending: bool
    ) -> int | None:
        """How many of :meth:`distinct_values` come up to ``value``, inclusive
        (None, without a query, as for :meth:`distinct_values`)."""
        table = self._table(connection)
        if table is None:
            return None
        return count_through(
            connection, table, self._db_value(value, connection), descending=descending
        )

    @property
    def _operator(self) -> str:
        return "<" if self.descending else ">"

    def _trimmed(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        sql: str,
        params: Sequence[Any],
    ) -> _AsSqlType:
        """``sql AND col > after``, the bound compiled by Django's own lookup."""
        if self.after is None:
            return sql, tuple(params)
        name = "lt" if self.descending else "gt"
        lookup_class = self.lhs.output_field.get_lookup(name)
        try:
            bound_sql, bound_params = compiler.compile(
                lookup_class(self.lhs, self.after)
            )
        except FullResultSet:
            return sql, tuple(params)
        return f"{sql} AND {bound_sql}", (*params, *bound_params)

    def _django_in(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        sql, params = super().as_sql(compiler, connection)
        return self._trimmed(compiler, connection, sql, params)

    def _db_value(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        field: Field[Any, Any] = self.lhs.output_field
        return field.get_db_prep_value(
            field.get_prep_value(value), connection, prepared=True
        )

    def _db_values(self, connection: BaseDatabaseWrapper) -> list[Any]:
        """The listed values as the driver sends them, without the ones no row
        can match (rangeqs._listed.db_values).

        Computed once per database: the same lookup is compiled for every page.
        """
        cache = self._cache
        key = ("values", connection.alias)
        if key not in cache:
            cache[key] = db_values(self.lhs.output_field, self.rhs, connection)
        values: list[Any] = cache[key]
        return values

    def _table(self, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]] | None:
        """The values as a table compared like the column, or None."""
        cache = self._cache
        key = ("table", connection.alias)
        if key not in cache:
            values = self._db_values(connection)
            raw = [value for value in self.rhs if value is not None]
            cache[key] = (
                None
                if not values or overflows_driver(raw, connection)
                else values_table(self.lhs.output_field, values, connection)
            )
        table: tuple[str, list[Any]] | None = cache[key]
        return table

    @property
    def _cache(self) -> dict[tuple[str, str], Any]:
        # Querysets copy their lookups on every clone; the dict is shared by
        # the copies, so the list is converted once per iteration.
        cache: dict[tuple[str, str], Any] | None = self.__dict__.get("_shared_cache")
        if cache is None:
            cache = {}
            self._shared_cache = cache
        return cache


def sorted_values(
    lookup: In, connection: BaseDatabaseWrapper, *, descending: bool
) -> list[Any] | None:
    """The distinct listed values in the column's order (see
    :meth:`InValues.distinct_values`), for the windows of the partition plan."""
    return _shared(lookup).distinct_values(connection, descending=descending)


def count_values_through(
    lookup: In, connection: BaseDatabaseWrapper, value: Any, *, descending: bool
) -> int | None:
    """How many distinct listed values the column sorts up to ``value``,
    inclusive (None, without a query, as for :func:`sorted_values`)."""
    return _shared(lookup).count_through(connection, value, descending=descending)


def _shared(lookup: In) -> InValues:
    values = in_values(lookup.lhs, lookup.rhs)
    if isinstance(lookup, InValues):
        values._shared_cache = lookup._cache
    return values


def in_values(
    lhs: Any, values: Sequence[Any], *, after: Any = None, descending: bool = False
) -> InValues:
    """An :class:`InValues` lookup on the expression ``lhs``."""
    lookup = InValues(lhs, list(values))
    lookup.after = after
    lookup.descending = descending
    return lookup


def values_after(lookup: In, value: Any, *, descending: bool) -> InValues:
    """The IN list of ``lookup`` restricted to the values after ``value``."""
    shared = lookup if isinstance(lookup, InValues) else None
    trimmed = in_values(lookup.lhs, lookup.rhs, after=value, descending=descending)
    if shared is not None:
        trimmed._shared_cache = shared._cache
    return trimmed
