"""Queries that put an IN list's values in the column's order.

The partition plan walks the listed values one window at a time, and the
merge plan needs one value per class of values the column finds equal: both
ask the database, which compares under the column's type and collation,
never Python. Each query reads the table of listed values that
:func:`rangeqs._listed.values_table` renders (``json_each`` on SQLite,
``JSON_TABLE`` on MariaDB), so this module only runs SQL over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["count_through", "distinct_in_order"]

#: A table of listed values: its SQL (a FROM item named ``rangeqs_values``
#: with one column ``v``) and the parameters of that SQL.
ValuesTable = tuple[str, list[Any]]


def distinct_in_order(
    connection: BaseDatabaseWrapper, table: ValuesTable, *, descending: bool
) -> list[Any]:
    """The values of ``table``, one per class the column finds equal, in the
    column's order: one query."""
    source, params = table
    order = "DESC" if descending else "ASC"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rangeqs_values.v FROM {source} "
            f"GROUP BY rangeqs_values.v ORDER BY rangeqs_values.v {order}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def count_through(
    connection: BaseDatabaseWrapper,
    table: ValuesTable,
    db_value: Any,
    *,
    descending: bool,
) -> int:
    """How many of :func:`distinct_in_order` come up to ``db_value`` (a value
    as the driver sends it), inclusive: one query."""
    source, params = table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(DISTINCT rangeqs_values.v) FROM {source} "
            f"WHERE rangeqs_values.v {'>=' if descending else '<='} %s",
            [*params, db_value],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0
