"""IN lists of any length, sent as one parameter.

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
column's collation. Any other database, and values that have no exact JSON
form on SQLite and MariaDB (decimals, dates), keep Django's own ``IN``.

:func:`rewrite_in_lists` swaps the long IN lists of a queryset's top-level
filters for :class:`InValues`; :func:`values_after` restricts a list to the
values the database sorts after a given one, for the partition plan.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db.models import Field, IntegerField
from django.db.models.lookups import In

from rangeqs._where import where_conditions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet
    from django.db.models.lookups import Lookup
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from rangeqs._where import Condition

__all__ = [
    "LONG_LIST",
    "MARIADB_LITERAL_LIST",
    "InValues",
    "count_values_through",
    "in_list_condition",
    "in_values",
    "replace_condition",
    "rewrite_in_lists",
    "sorted_values",
    "values_after",
]

#: Lists longer than this are sent as one parameter. Shorter ones keep
#: Django's ``IN (%s, ...)``, whose values the planners see one by one.
LONG_LIST = 1000

# MariaDB's JSON_TABLE silently truncates a value longer than its column, so
# text columns get a width no stored value of a CharField can exceed.
_MYSQL_TEXT_WIDTH = 16383
#: MariaDB turns an IN list of this many values or more into a semi-join
#: (in_predicate_conversion_threshold), which sorts every row it matches.
MARIADB_LITERAL_LIST = 1000
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


class InValues(In):
    """``col IN (values)`` with the values bound as one parameter.

    ``after`` keeps only the listed values that sort strictly after it
    (before it when ``descending``) in the column's collation: the database
    compares, never Python.
    """

    after: Any = None
    descending = False

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        values = self._db_values(connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        array_type = self.lhs.output_field.cast_db_type(connection)
        sql = f"{lhs_sql} = ANY(%s::{array_type}[])"
        params: list[Any] = [*lhs_params, values]
        if self.after is not None:
            sql += f" AND {lhs_sql} {self._operator} %s"
            params += [*lhs_params, self._db_value(self.after, connection)]
        return sql, tuple(params)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        encoded = self._json(connection)
        if encoded is None:
            return self._django_in(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        subquery = "SELECT value FROM json_each(%s)"
        params: list[Any] = [*lhs_params, encoded]
        if self.after is not None:
            # Trimming inside the subquery, rather than with `col > %s` outside,
            # keeps SQLite from reading the rows of every skipped value.
            subquery += f" WHERE value {self._operator} %s{self._collate(connection)}"
            params.append(self._db_value(self.after, connection))
        return f"{lhs_sql} IN ({subquery})", tuple(params)

    def as_mysql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        # A short literal list is a set of index ranges that MariaDB reads in
        # index order; a JSON_TABLE semi-join would sort the rows it finds.
        if len(self._db_values(connection)) < MARIADB_LITERAL_LIST:
            return self._django_in(compiler, connection)
        column_type = self._mysql_column_type(connection)
        encoded = self._json(connection)
        if column_type is None or encoded is None or not _has_json_table(connection):
            return self._django_in(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        sql = (
            f"{lhs_sql} IN (SELECT rangeqs_values.v FROM JSON_TABLE(%s, '$[*]' "
            f"COLUMNS (v {column_type} PATH '$')) AS rangeqs_values)"
        )
        params: list[Any] = [*lhs_params, encoded]
        if self.after is not None:
            sql += f" AND {lhs_sql} {self._operator} %s"
            params += [*lhs_params, self._db_value(self.after, connection)]
        return sql, tuple(params)

    @property
    def _operator(self) -> str:
        return "<" if self.descending else ">"

    def _django_in(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSqlType:
        sql, params = super().as_sql(compiler, connection)
        if self.after is None:
            return sql, params
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        after_param = self._db_value(self.after, connection)
        return (
            f"{sql} AND {lhs_sql} {self._operator} %s",
            (*params, *lhs_params, after_param),
        )

    def _db_value(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        field: Field[Any, Any] = self.lhs.output_field
        return field.get_db_prep_value(
            field.get_prep_value(value), connection, prepared=True
        )

    def _db_values(self, connection: BaseDatabaseWrapper) -> list[Any]:
        """The listed values as the driver sends them, NULLs and repeats dropped.

        Computed once per database: the same lookup is compiled for every page.
        """
        cache = self._cache
        key = ("values", connection.alias)
        if key not in cache:
            field: Field[Any, Any] = self.lhs.output_field
            unique = dict.fromkeys(value for value in self.rhs if value is not None)
            cache[key] = [
                field.get_db_prep_value(value, connection, prepared=True)
                for value in unique
            ]
        values: list[Any] = cache[key]
        return values

    def _json(self, connection: BaseDatabaseWrapper) -> str | None:
        """The values as a JSON array, or None when one has no exact JSON form."""
        cache = self._cache
        key = ("json", connection.alias)
        if key not in cache:
            values = self._db_values(connection)
            exact = all(
                isinstance(value, (int, str)) and not _out_of_bigint(value)
                for value in values
            )
            cache[key] = json.dumps(values) if exact else None
        encoded: str | None = cache[key]
        return encoded

    @property
    def _cache(self) -> dict[tuple[str, str], Any]:
        # Querysets copy their lookups on every clone; the dict is shared by
        # the copies, so the list is converted once per iteration.
        cache: dict[tuple[str, str], Any] | None = self.__dict__.get("_shared_cache")
        if cache is None:
            cache = {}
            self._shared_cache = cache
        return cache

    def _collate(self, connection: BaseDatabaseWrapper) -> str:
        collation = getattr(self.lhs.output_field, "db_collation", None)
        if not collation:
            return ""
        return f" COLLATE {connection.ops.quote_name(collation)}"

    def _mysql_column_type(self, connection: BaseDatabaseWrapper) -> str | None:
        """The JSON_TABLE column type that compares like the field, or None."""
        field = self.lhs.output_field
        internal_type = field.get_internal_type()
        if isinstance(field, IntegerField) or internal_type in (
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
        ):
            db_type = (field.db_type(connection) or "").lower()
            return "BIGINT UNSIGNED" if "unsigned" in db_type else "BIGINT"
        if internal_type in ("CharField", "TextField", "SlugField", "EmailField"):
            collation = getattr(field, "db_collation", None)
            collate = (
                f" COLLATE {connection.ops.quote_name(collation)}" if collation else ""
            )
            return f"VARCHAR({_MYSQL_TEXT_WIDTH}){collate}"
        return None


def sorted_values(
    lookup: In, connection: BaseDatabaseWrapper, *, descending: bool
) -> list[Any] | None:
    """The distinct listed values, sorted by MariaDB in the column's collation.

    For MariaDB and MySQL only, where a long list's semi-join sorts every
    row it matches, so the partition plan reads the list in windows of
    literal values instead. None, without a query, when the list has no
    JSON_TABLE form there.
    """
    source = _json_table_source(lookup, connection)
    if source is None:
        return None
    sql, params = source
    order = "DESC" if descending else "ASC"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT rangeqs_values.v {sql} ORDER BY rangeqs_values.v {order}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def count_values_through(
    lookup: In, connection: BaseDatabaseWrapper, value: Any, *, descending: bool
) -> int | None:
    """How many distinct listed values MariaDB sorts up to ``value``, inclusive
    (None, without a query, as for :func:`sorted_values`)."""
    source = _json_table_source(lookup, connection)
    if source is None:
        return None
    sql, params = source
    field: Field[Any, Any] = lookup.lhs.output_field
    prepared = field.get_db_prep_value(
        field.get_prep_value(value), connection, prepared=True
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(DISTINCT rangeqs_values.v) {sql} "
            f"WHERE rangeqs_values.v {'>=' if descending else '<='} %s",
            [*params, prepared],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _json_table_source(
    lookup: In, connection: BaseDatabaseWrapper
) -> tuple[str, list[Any]] | None:
    """``FROM JSON_TABLE(...) AS rangeqs_values`` over the listed values."""
    values = in_values(lookup.lhs, lookup.rhs)
    if isinstance(lookup, InValues):
        values._shared_cache = lookup._cache
    column_type = values._mysql_column_type(connection)
    encoded = values._json(connection)
    if column_type is None or encoded is None or not _has_json_table(connection):
        return None
    sql = (
        f"FROM JSON_TABLE(%s, '$[*]' COLUMNS (v {column_type} PATH '$')) "
        f"AS rangeqs_values"
    )
    return sql, [encoded]


def rewrite_in_lists(
    queryset: QuerySet[Any, Any], *, longer_than: int = LONG_LIST
) -> QuerySet[Any, Any]:
    """``queryset`` with each top-level IN list longer than ``longer_than``
    sent as one parameter (:class:`InValues`); other filters are untouched."""
    for condition in where_conditions(queryset):
        if (
            _is_literal_in_list(condition)
            and len(condition.values or ()) > longer_than
            and not isinstance(condition.lookup, InValues)
        ):
            assert condition.lookup is not None
            lookup = in_values(condition.lookup.lhs, condition.lookup.rhs)
            queryset = replace_condition(queryset, condition, lookup)
    return queryset


def in_list_condition(
    queryset: QuerySet[Any, Any],
    *,
    column: str | None = None,
    not_column: str | None = None,
) -> Condition | None:
    """The first IN list of literal values AND-ed into the filters, if any:
    on the column with attname ``column``, or on any column but ``not_column``."""
    for condition in where_conditions(queryset):
        if not _is_literal_in_list(condition):
            continue
        assert condition.field is not None
        attname = condition.field.attname
        if column is not None and attname != column:
            continue
        if not_column is not None and attname == not_column:
            continue
        return condition
    return None


def replace_condition(
    queryset: QuerySet[Any, Any], condition: Condition, lookup: Lookup[Any]
) -> QuerySet[Any, Any]:
    """A copy of ``queryset`` with ``lookup`` in the place of ``condition``."""
    clone = queryset.all()
    # Cloning a query clones its WHERE nodes but shares their leaves: swap
    # the leaf in the copied node, never in the original.
    parent: Any = clone.query.where
    for position in condition.path[:-1]:
        parent = parent.children[position]
    parent.children[condition.path[-1]] = lookup
    return clone


def _is_literal_in_list(condition: Condition) -> bool:
    return (
        condition.kind == "in"
        and condition.can_bound_index
        and condition.values is not None
        and condition.field is not None
    )


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


def _out_of_bigint(value: int | str) -> bool:
    # JSON_TABLE clamps an out-of-range integer to the type's limit, which
    # could then match a stored row; such a value can match no integer column.
    return isinstance(value, int) and not _BIGINT_MIN <= value <= _BIGINT_MAX


def _has_json_table(connection: BaseDatabaseWrapper) -> bool:
    version = connection.mysql_version  # type: ignore[attr-defined]
    if connection.mysql_is_mariadb:  # type: ignore[attr-defined]
        return bool(version >= (10, 6))
    return bool(version >= (8, 0, 4))
