"""The values of an IN list as the database compares them with its column.

Every piece of SQL that rangeqs renders around a list (one parameter for a
long list, trimming it to the values after a position, the distinct values
in the column's order) compares listed values the way Django's own
``col IN (...)`` would compare them with the column: same type, same range,
same collation. That is only possible when the column's type is known
exactly, so each rendering is derived here from the field, in one place:

- :func:`column_field` is the field that defines the column: a foreign key's
  column has the type and collation of the column it points to;
- :func:`renders_exactly` says whether rangeqs may render a list itself at
  all (a JSON value, or a type without an exact rendering, stays in
  Django's own ``IN``);
- :func:`db_values` prepares the values as Django's ``IN`` sends them,
  without the ones that can match no row (NULL, an integer outside the
  column's range, which Django's ``=`` on an integer column also drops);
- :func:`values_table` is a one-parameter table of those values whose column
  ``v`` compares as the column does, or None where no exact one exists.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

__all__ = [
    "array_type",
    "collate_clause",
    "column_field",
    "db_values",
    "equal_as_range",
    "is_integer",
    "is_text",
    "matchable_values",
    "overflows_driver",
    "renders_exactly",
    "values_table",
]

_INTEGER_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)
_TEXT_TYPES = frozenset({"CharField", "TextField", "SlugField", "EmailField"})
# Types whose values Django sends as plain numbers, strings, UUIDs, dates or
# decimals, so that a typed array (PostgreSQL) holds them unchanged.
_EXACT_TYPES = (
    _INTEGER_TYPES
    | _TEXT_TYPES
    | {
        "DecimalField",
        "UUIDField",
        "DateField",
        "DateTimeField",
    }
)

# The widest VARCHAR that MariaDB's JSON_TABLE takes in utf8mb4.
_MYSQL_MAX_VARCHAR = 16383
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_TYPMOD = re.compile(r"\s*\([^)]*\)")


def column_field(field: Field[Any, Any]) -> Field[Any, Any]:
    """The field whose type and collation the column of ``field`` has."""
    while getattr(field, "is_relation", False) and hasattr(field, "target_field"):
        field = field.target_field
    return field


def is_integer(field: Field[Any, Any]) -> bool:
    return column_field(field).get_internal_type() in _INTEGER_TYPES


def is_text(field: Field[Any, Any]) -> bool:
    return column_field(field).get_internal_type() in _TEXT_TYPES


def equal_as_range(field: Field[Any, Any]) -> bool:
    """Whether ``col >= v AND col <= v`` matches exactly the rows that
    ``col = v`` matches: an integer column, or a text one, compared under its
    collation, whose ``=`` and order agree (a nondeterministic one's too)."""
    return is_integer(field) or is_text(field)


def renders_exactly(field: Field[Any, Any], values: Iterable[Any]) -> bool:
    """Whether rangeqs may render ``field IN values`` itself.

    False for a JSON column and any type not known to have an exact
    rendering, and for unhashable values: such a list is left to Django.
    """
    if column_field(field).get_internal_type() not in _EXACT_TYPES:
        return False
    try:
        for value in values:
            hash(value)
    except TypeError:
        return False
    return True


def matchable_values(
    field: Field[Any, Any], values: Iterable[Any], connection: BaseDatabaseWrapper
) -> list[Any]:
    """``values`` (already prepared by the lookup) without NULLs, identical
    repeats and integers outside the column's range: the values a row can
    match. Django's ``col = v`` on an integer column matches nothing for
    such a ``v`` either (``IntegerFieldOverflow``)."""
    unique = list(dict.fromkeys(value for value in values if value is not None))
    if not is_integer(field):
        return unique
    low, high = _integer_range(field, connection)
    return [
        value
        for value in unique
        if not isinstance(value, int)
        or ((low is None or value >= low) and (high is None or value <= high))
    ]


def _integer_range(
    field: Field[Any, Any], connection: BaseDatabaseWrapper
) -> tuple[int | None, int | None]:
    # Django's own bounds for the column's type (None: unbounded, on some
    # backends and versions).
    bounds: tuple[int | None, int | None] = connection.ops.integer_field_range(
        column_field(field).get_internal_type()
    )
    return bounds


def db_values(
    field: Field[Any, Any], values: Iterable[Any], connection: BaseDatabaseWrapper
) -> list[Any]:
    """:func:`matchable_values` as Django's ``IN`` sends them to the driver."""
    return [
        field.get_db_prep_value(value, connection, prepared=True)
        for value in matchable_values(field, values, connection)
    ]


def overflows_driver(values: Iterable[Any], connection: BaseDatabaseWrapper) -> bool:
    """Whether the driver cannot send one of ``values`` (SQLite: past 64 bits).

    Django's own ``IN`` raises then; rangeqs leaves the list to it.
    """
    return connection.vendor == "sqlite" and any(
        isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX
        for value in values
    )


def values_table(
    field: Field[Any, Any], values: list[Any], connection: BaseDatabaseWrapper
) -> tuple[str, list[Any]] | None:
    """A derived table ``rangeqs_values`` of ``values`` (from :func:`db_values`)
    in one parameter, its column ``v`` typed and collated like the column of
    ``field``; None where this database has no exact form for them."""
    if connection.vendor == "postgresql":
        return _postgresql_table(field, values, connection)
    if connection.vendor == "sqlite":
        return _sqlite_table(field, values, connection)
    if connection.vendor == "mysql":
        return _mysql_table(field, values, connection)
    return None


def array_type(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> str:
    """The PostgreSQL element type of a list for the column of ``field``.

    The column's own type without its modifier: ``varchar(5)`` would cut a
    longer value down to a stored one, ``numeric(6, 2)`` round a finer one.
    """
    db_type = field.db_type(connection) or "text"
    return _TYPMOD.sub("", db_type)


def collate_clause(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> str:
    """`` COLLATE <the column's collation>`` when the field declares one."""
    collation = getattr(column_field(field), "db_collation", None)
    if not collation:
        return ""
    return f" COLLATE {connection.ops.quote_name(collation)}"


def _postgresql_table(
    field: Field[Any, Any], values: list[Any], connection: BaseDatabaseWrapper
) -> tuple[str, list[Any]]:
    element = array_type(field, connection)
    collate = collate_clause(field, connection) if is_text(field) else ""
    sql = (
        f"(SELECT rangeqs_listed.v{collate} AS v "
        f"FROM unnest(%s::{element}[]) AS rangeqs_listed(v)) AS rangeqs_values"
    )
    return sql, [values]


def _sqlite_table(
    field: Field[Any, Any], values: list[Any], connection: BaseDatabaseWrapper
) -> tuple[str, list[Any]] | None:
    encoded = _json_array(field, values)
    if encoded is None:
        return None
    collate = collate_clause(field, connection) if is_text(field) else ""
    sql = f"(SELECT value{collate} AS v FROM json_each(%s)) AS rangeqs_values"
    return sql, [encoded]


def _mysql_table(
    field: Field[Any, Any], values: list[Any], connection: BaseDatabaseWrapper
) -> tuple[str, list[Any]] | None:
    if not _has_json_table(connection):
        return None
    column_type = _mysql_column_type(field, values, connection)
    encoded = _json_array(field, values)
    if column_type is None or encoded is None:
        return None
    sql = f"JSON_TABLE(%s, '$[*]' COLUMNS (v {column_type} PATH '$')) AS rangeqs_values"
    return sql, [encoded]


def _json_array(field: Field[Any, Any], values: list[Any]) -> str | None:
    """The values as a JSON array, for integer and text columns only: the
    types whose values JSON holds exactly and the database reads back as
    the same value."""
    if is_integer(field):
        exact = all(
            isinstance(value, int)
            and not isinstance(value, bool)
            and _INT64_MIN <= value <= 2**64 - 1
            for value in values
        )
    elif is_text(field) or column_field(field).get_internal_type() == "UUIDField":
        exact = all(isinstance(value, str) for value in values)
    else:
        exact = False
    return json.dumps(values) if exact else None


def _mysql_column_type(
    field: Field[Any, Any], values: list[Any], connection: BaseDatabaseWrapper
) -> str | None:
    """The JSON_TABLE column type that holds every value unchanged, or None.

    The values of an integer column are inside its range (:func:`db_values`),
    so a signed or unsigned BIGINT holds each as it is.
    """
    if is_integer(field):
        low, _ = _integer_range(field, connection)
        return "BIGINT UNSIGNED" if low is not None and low >= 0 else "BIGINT"
    if not is_text(field) or not values:
        return None
    # Wide enough for the longest value, which the column type would
    # otherwise cut short (and a cut value may match a stored one).
    width = max(len(value) for value in values)
    if width > _MYSQL_MAX_VARCHAR:
        return None
    collation = getattr(column_field(field), "db_collation", None)
    # A collation belongs to one character set, which MariaDB does not infer.
    charset = f" CHARACTER SET {collation.split('_')[0]}" if collation else ""
    return f"VARCHAR({max(width, 1)}){charset}{collate_clause(field, connection)}"


def _has_json_table(connection: BaseDatabaseWrapper) -> bool:
    version = connection.mysql_version  # type: ignore[attr-defined]
    if connection.mysql_is_mariadb:  # type: ignore[attr-defined]
        return bool(version >= (10, 6))
    return bool(version >= (8, 0, 4))
