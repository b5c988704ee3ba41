"""Rows generated inside PostgreSQL with ``generate_series``: no Python loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "BACKGROUND_GROUP_ROWS",
    "DENSE_GROUPS",
    "SPARSE_GROUPS",
    "TARGET_PROJECT",
    "load_grouphashes",
    "load_items",
]

# The two target sets of findings section 1, 100 groups each, all in one
# project. A row is "sparse" when id % 100 = 1 (1 % of the table) and
# otherwise "dense" when id % 21 = 0 (about 4.7 %); each set's groups take
# its rows round-robin, so every group's ids span the whole table,
# interleaved with everything else.
DENSE_GROUPS = tuple(range(1, 101))
SPARSE_GROUPS = tuple(range(101, 201))
TARGET_PROJECT = 1

# The other rows: groups of BACKGROUND_GROUP_ROWS rows on average, spread
# over the table by a multiplicative step, in about 1,000 other projects.
# Most of Sentry's groups have one or two hashes; the target groups are the
# outliers. The planner's estimate for a listed group that is not among its
# most common values comes from the average group, and that estimate decides
# the plain plan: with small groups it expects few matches and sorts every
# remaining one (findings section 1); with groups of about 50 rows it walks
# the primary key at step 100 instead.
BACKGROUND_GROUP_ROWS = 1
_FIRST_BACKGROUND_GROUP = 1_000
_BACKGROUND_PROJECTS = 997


def load_items(connection: BaseDatabaseWrapper, rows: int) -> None:
    """Issue 2's table: ``a`` cycles through 1,000 values, so ``(a, pk)`` order
    visits the heap in a different order than the pk."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO rangeqs_bench_item (id, a, payload)
            SELECT i, i %% 1000, md5(i::text) FROM generate_series(1, %s) AS i
            """,
            [rows],
        )


def load_grouphashes(
    connection: BaseDatabaseWrapper,
    rows: int,
    *,
    background_group_rows: int = BACKGROUND_GROUP_ROWS,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO rangeqs_bench_grouphash (id, project_id, group_id, hash)
            SELECT i,
                   CASE WHEN g <= %(last_target)s THEN %(project)s
                        ELSE 2 + g %% %(projects)s END,
                   g,
                   md5(i::text)
            FROM (
                SELECT i,
                       CASE WHEN i %% 100 = 1 THEN %(sparse)s + (i / 100) %% 100
                            WHEN i %% 21 = 0 THEN %(dense)s + (i / 21) %% 100
                            ELSE %(background)s + (i * 7919) %% %(groups)s
                       END AS g
                FROM generate_series(1, %(rows)s::bigint) AS i
            ) AS numbered
            """,
            {
                "rows": rows,
                "sparse": SPARSE_GROUPS[0],
                "dense": DENSE_GROUPS[0],
                "last_target": SPARSE_GROUPS[-1],
                "project": TARGET_PROJECT,
                "background": _FIRST_BACKGROUND_GROUP,
                "groups": max(1, rows // background_group_rows),
                "projects": _BACKGROUND_PROJECTS,
            },
        )
