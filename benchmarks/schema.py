"""Create a benchmark table, fill it fast, and drop it afterwards.

Secondary indexes and unique constraints are dropped while the rows go in and
rebuilt afterwards: building a B-tree once is far cheaper than inserting
millions of random keys (``hash`` is an MD5) one by one. The table is
UNLOGGED: reads take the same path as on a logged table, and loading skips
the write-ahead log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rangeqs.examples.grouphash.bulk_load import drop_secondary_indexes

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

__all__ = ["Footprint", "footprint", "prepared_table"]

Loader = Callable[["BaseDatabaseWrapper", int], None]


@contextmanager
def prepared_table(
    connection: BaseDatabaseWrapper,
    model: type[Model],
    *,
    rows: int,
    load: Loader,
    keep: bool = False,
    shape: str = "",
) -> Iterator[float | None]:
    """Yield with ``model``'s table holding ``rows`` rows made by ``load``.

    Yields the seconds that generating and indexing took, or None when the
    table was reused: with ``keep`` the table outlives the run, and a later
    run asking for the same row count and ``shape`` (what else ``load`` was
    told) reuses it.
    """
    table = model._meta.db_table
    marker = f"rangeqs benchmark: {rows} rows{shape and ', '}{shape}"
    seconds = None
    if not (keep and _comment(connection, table) == marker):
        start = time.perf_counter()
        _drop(connection, table)
        with connection.schema_editor() as editor:
            editor.create_model(model)
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}" SET UNLOGGED')
        with connection.cursor() as cursor:
            rebuild = drop_secondary_indexes(cursor, table)
        load(connection, rows)
        with connection.cursor() as cursor:
            # A big sort per index build instead of many small ones.
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for statement in rebuild:
                cursor.execute(statement)
            cursor.execute("RESET maintenance_work_mem")
            # Sets hint bits and the visibility map now, so that the first
            # strategy measured does not pay for them, and gives the planner
            # statistics.
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
            cursor.execute(f"COMMENT ON TABLE \"{table}\" IS '{marker}'")
        seconds = time.perf_counter() - start
    try:
        yield seconds
    finally:
        if not keep:
            _drop(connection, table)


@dataclass(frozen=True)
class Footprint:
    """What a benchmark table takes on disk, beside the server's cache."""

    table_bytes: int
    index_bytes: int
    shared_buffers_bytes: int

    @property
    def cached_share(self) -> float:
        """The share of the table and its indexes that shared_buffers can
        hold: below 1, a pass reads pages from outside the server, from the
        operating system's cache or the disk, whichever holds them then."""
        total = self.table_bytes + self.index_bytes
        return min(1.0, self.shared_buffers_bytes / total) if total else 1.0


def footprint(connection: BaseDatabaseWrapper, model: type[Model]) -> Footprint:
    """``model``'s table and index sizes, and the server's shared_buffers."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size(to_regclass(%s)),"
            " pg_indexes_size(to_regclass(%s)),"
            " pg_size_bytes(current_setting('shared_buffers'))",
            [model._meta.db_table] * 2,
        )
        row = cursor.fetchone()
    assert row is not None
    return Footprint(int(row[0]), int(row[1]), int(row[2]))


def _comment(connection: BaseDatabaseWrapper, table: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [table])
        row = cursor.fetchone()
    return None if row is None else row[0]


def _drop(connection: BaseDatabaseWrapper, table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{table}"')
