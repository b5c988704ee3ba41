"""How many distinct values the planner's statistics give each column.

Read from the catalog the database keeps after ANALYZE: PostgreSQL
``pg_stats``, SQLite ``sqlite_stat1``, MariaDB ``information_schema.STATISTICS``.
The last two know only columns that lead an index. A column without
statistics is simply missing from the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connections

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.utils import CursorWrapper
    from django.db.models import Model

__all__ = ["analyzed", "distinct_values", "has_dependency_statistics"]


def distinct_values(
    model: type[Model], columns: Sequence[str], *, using: str
) -> dict[str, float]:
    """Estimated distinct values per column of ``model``'s table."""
    if not columns:
        return {}
    connection = connections[using]
    table = model._meta.db_table
    readers = {
        "postgresql": _distinct_on_postgresql,
        "sqlite": _distinct_on_sqlite,
        "mysql": _distinct_on_mariadb,
    }
    reader = readers.get(connection.vendor)
    if reader is None:
        return {}
    with connection.cursor() as cursor:
        found = reader(cursor, table, columns)
    return {column: count for column, count in found.items() if column in columns}


def _distinct_on_postgresql(
    cursor: CursorWrapper, table: str, columns: Sequence[str]
) -> dict[str, float]:
    cursor.execute(
        """
        SELECT s.attname, s.n_distinct, c.reltuples
        FROM pg_stats s
        JOIN pg_class c ON c.relname = s.tablename
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
        WHERE s.schemaname = current_schema() AND s.tablename = %s
          AND s.attname = ANY(%s)
        """,
        [table, list(columns)],
    )
    # A negative n_distinct is a fraction of the rows (it grows with them).
    return {
        name: -n_distinct * max(reltuples, 0) if n_distinct < 0 else n_distinct
        for name, n_distinct, reltuples in cursor.fetchall()
    }


def _distinct_on_sqlite(
    cursor: CursorWrapper, table: str, columns: Sequence[str]
) -> dict[str, float]:
    try:
        cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = %s", [table])
    except DatabaseError:  # no ANALYZE has run: the table does not exist
        return {}
    found: dict[str, float] = {}
    for index_name, stat in cursor.fetchall():
        if index_name is None:
            continue
        numbers = stat.split()
        cursor.execute(
            "SELECT name FROM pragma_index_info(%s) WHERE seqno = 0", [index_name]
        )
        row: Any = cursor.fetchone()
        if row is None or len(numbers) < 2 or int(numbers[1]) == 0:
            continue
        # "rows avg-rows-per-first-column-value ...".
        found[row[0]] = max(found.get(row[0], 0.0), int(numbers[0]) / int(numbers[1]))
    return found


def _distinct_on_mariadb(
    cursor: CursorWrapper, table: str, columns: Sequence[str]
) -> dict[str, float]:
    cursor.execute(
        """
        SELECT COLUMN_NAME, MAX(CARDINALITY)
        FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND SEQ_IN_INDEX = 1
          AND CARDINALITY IS NOT NULL
        GROUP BY COLUMN_NAME
        """,
        [table],
    )
    return {name: float(cardinality) for name, cardinality in cursor.fetchall()}


def analyzed(model: type[Model], *, using: str) -> bool:
    """The planner has statistics on ``model``'s table (ANALYZE has run).

    MariaDB keeps index statistics of its own accord: always True there.
    """
    connection = connections[using]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE "
                "schemaname = current_schema() AND tablename = %s)",
                [table],
            )
            row: Any = cursor.fetchone()
            return bool(row[0])
        if connection.vendor == "sqlite":
            try:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = %s)",
                    [table],
                )
            except DatabaseError:  # no ANALYZE has run: the table does not exist
                return False
            row = cursor.fetchone()
            return bool(row[0])
    return True


def has_dependency_statistics(
    model: type[Model], columns: Sequence[str], *, using: str
) -> bool:
    """PostgreSQL has functional-dependency statistics (``CREATE STATISTICS
    ... (dependencies)``) on all of ``columns`` of ``model``'s table."""
    connection = connections[using]
    if connection.vendor != "postgresql" or len(columns) < 2:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_statistic_ext s
                JOIN pg_class c ON c.oid = s.stxrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relname = %s
                  AND 'f' = ANY(s.stxkind)
                  AND (
                      SELECT array_agg(a.attname::text) FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attnum = ANY(s.stxkeys)
                  ) @> %s::text[]
            )
            """,
            [model._meta.db_table, list(columns)],
        )
        row: Any = cursor.fetchone()
    return bool(row[0])
