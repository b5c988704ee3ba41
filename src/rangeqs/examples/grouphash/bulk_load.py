"""Bulk loads on PostgreSQL: secondary indexes and constraints dropped while
the rows go in, rebuilt after (one sort per index instead of a B-tree
insertion per row). Plain SQL, no models, so the benchmarks (which install
other apps) load their tables the same way."""

from __future__ import annotations

from typing import Any

__all__ = ["drop_secondary_indexes"]


def drop_secondary_indexes(cursor: Any, table: str) -> list[str]:
    """Drop every index but the primary key, the unique constraints and the
    foreign keys of the PostgreSQL ``table``; return the statements that
    rebuild them (the benchmarks' tables load the same way)."""
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype IN ('u', 'f')
        """,
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        [table],
    )
    indexes = cursor.fetchall()
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes] + [
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
        for name, definition in constraints
    ]
