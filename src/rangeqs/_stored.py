"""Key values as the database stores them, where Django's would not bind back.

SQLite keeps whatever a statement wrote: a Decimal with more places than
the field's ``decimal_places``, a datetime written as ``2024-01-01T10:00``
by raw SQL. Django converts such a value on the way out (rounds it, parses
it), and the converted value, bound as the next page's position, names
another point of the database's order: rows between the two are skipped, or
the page returns the same rows forever. A position must be a point of the
database's own order, so where the converted value would not bind back to
what was stored, the position keeps the stored value itself.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Func

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

__all__ = ["StoredValue", "bind", "needs_stored_column", "position_value"]

# SQLite declared types whose values Python's sqlite3 parses before Django
# sees them (Django registers these converters): the stored text is lost
# unless the column is selected through an expression, which has no type.
_PARSED_BY_SQLITE3 = frozenset({"bool", "date", "datetime", "time", "timestamp"})

# Internal types whose values Django's SQLite backend converts on the way out.
_CONVERTED_BY_DJANGO = frozenset(
    {
        "BooleanField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "TimeField",
        "UUIDField",
    }
)


@dataclass(frozen=True)
class StoredValue:
    """A position value bound to the database as it was fetched, unconverted."""

    raw: Any


class StoredColumn(Func):
    """``+column``: SQLite's no-op operator, which returns the stored value
    with no declared type, so that sqlite3 hands it over unparsed."""

    template = "+%(expressions)s"


def needs_stored_column(
    field: Field[Any, Any],
    connection: BaseDatabaseWrapper,
    *,
    converted_rows: bool = False,
) -> bool:
    """Whether the stored value of ``field`` must be selected through
    :class:`StoredColumn` to be seen as stored.

    ``converted_rows``: the page's rows are made by an ordinary queryset
    evaluation, whose values Django has converted (rangeqs._django's
    fallback): every key whose value Django or sqlite3 converts needs it.
    """
    if connection.vendor != "sqlite":
        return False
    db_type = (field.db_type(connection) or "").lower()
    if converted_rows and (
        field.get_internal_type() in _CONVERTED_BY_DJANGO
        or field.get_db_converters(connection)
    ):
        return True
    return db_type in _PARSED_BY_SQLITE3


def stored_output_field(field: Field[Any, Any]) -> Field[Any, Any]:
    """The output field of a :class:`StoredColumn` of ``field``: one that no
    converter touches, so that the stored value reaches the row as stored."""
    return _Unconverted()


class _Unconverted(models.Field):  # type: ignore[type-arg]
    """A field of no type, so no converter: what ``+column`` returns."""

    def get_internal_type(self) -> str:
        return "RangeqsStoredValue"


def position_value(
    field: Field[Any, Any], converted: Any, raw: Any, connection: BaseDatabaseWrapper
) -> Any:
    """``converted`` where binding it gives back ``raw``; otherwise ``raw``,
    kept as a :class:`StoredValue`.

    Only SQLite stores values in other forms than the column's type: the
    other databases convert a value to the column's type when it is written.
    """
    if connection.vendor != "sqlite" or raw is None or converted is None:
        return converted
    try:
        bound = field.get_db_prep_value(converted, connection)
    except (TypeError, ValueError, decimal.InvalidOperation):
        return StoredValue(raw)
    return converted if _same_stored(bound, raw) else StoredValue(raw)


def _same_stored(bound: Any, raw: Any) -> bool:
    numbers = (decimal.Decimal, int, float)
    if isinstance(bound, bool):
        bound = int(bound)
    if isinstance(raw, float):
        # SQLite compares a bound decimal as the REAL it becomes.
        return isinstance(bound, numbers) and float(bound) == raw
    if isinstance(raw, str):
        return (bound if isinstance(bound, str) else str(bound)) == raw
    if isinstance(raw, bytes):
        return isinstance(bound, (bytes, bytearray, memoryview)) and bytes(bound) == raw
    if isinstance(raw, int):
        return isinstance(bound, numbers) and bound == raw
    return bool(bound == raw)


def bind(field: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    """The parameter for a position value: a stored value as it is."""
    if isinstance(value, StoredValue):
        return value.raw
    return field.get_db_prep_value(value, connection)
