"""Generate a GroupHash table shaped like the incident's (237k of 5M rows).

Row ``i`` (ids 1..N) goes, by a fixed rule, to one of three sets:

- dense: 4.7 % of the rows, in 100 groups of project 1 (the seed's ~237k
  rows out of 5M);
- sparse: 1 % of the rows, in 100 groups of project 2;
- rare: 0.1 % of the rows, in 100 groups of project 1: a set that is a
  sliver of the table, as the incident's 237k rows are of production's;
- the rest: background groups of one hash each, as most of Sentry's groups
  are, half of them in project 1 (a big customer), the others spread over
  nine more projects.

The target sets' ids are interleaved with the rest of the table, as in
production where a group's hashes arrive over time. The rows are generated in
the database (``generate_series`` on PostgreSQL, a recursive CTE on SQLite)
or, elsewhere, with ``bulk_create`` in chunks.

Groups of one hash matter for the query plans: the planner's estimate for a
listed group that is not among its most common values comes from the average
group, one row, so it expects few matches for the sparse set and sorts every
remaining one on each page of the seed's walk, as on Sentry's table, where
even the incident's big groups are a sliver of the rows.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from rangeqs.examples.grouphash.bulk_load import drop_secondary_indexes
from rangeqs.examples.grouphash.models import Group, GroupHash, Project

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tqdm import tqdm

__all__ = ["TARGET_SETS", "TargetSet", "generate", "placement", "target_set"]

TARGET_GROUPS = 100
PROJECTS = 10
CHUNK_ROWS = 250_000


@dataclass(frozen=True)
class TargetSet:
    """100 groups of one project whose hashes the demo deletes: row ``i``
    belongs to the set when ``i % 1000`` falls in its slots."""

    name: str
    project_id: int
    first_group: int
    first_slot: int
    per_mille: int

    @property
    def group_ids(self) -> list[int]:
        return list(range(self.first_group, self.first_group + TARGET_GROUPS))

    @property
    def end_slot(self) -> int:
        return self.first_slot + self.per_mille


# In slot order, back to back from slot 0.
TARGET_SETS = (
    TargetSet("dense", project_id=1, first_group=1, first_slot=0, per_mille=47),
    TargetSet("sparse", project_id=2, first_group=101, first_slot=47, per_mille=20),
    TargetSet("rare", project_id=1, first_group=201, first_slot=67, per_mille=1),
)
# Background row i is the one hash of group BACKGROUND_FIRST_GROUP + i.
BACKGROUND_FIRST_GROUP = 301
_BACKGROUND_FIRST_SLOT = TARGET_SETS[-1].end_slot


def target_set(name: str) -> TargetSet:
    """The target set called ``name``."""
    for target in TARGET_SETS:
        if target.name == name:
            return target
    known = ", ".join(target.name for target in TARGET_SETS)
    raise ValueError(f"No target set is called {name!r}: use one of {known}.")


def placement(i: int) -> tuple[int, int]:
    """``(project_id, group_id)`` of row ``i``: the rule the SQL below encodes."""
    slot = i % 1000
    for target in TARGET_SETS:
        if slot < target.end_slot:
            group = target.first_group + (i // 1000 + slot) % TARGET_GROUPS
            return target.project_id, group
    return _background_project(i), BACKGROUND_FIRST_GROUP + i


def _background_project(i: int) -> int:
    """Half the background groups are project 1's: the dense set sits in a big
    project, as a big customer's would, so the tenant filter alone narrows
    little."""
    return 1 if i % 2 == 0 else 2 + i % (PROJECTS - 1)


def _background_project_sql(i: str) -> str:
    return f"CASE WHEN {i} %% 2 = 0 THEN 1 ELSE 2 + {i} %% {PROJECTS - 1} END"


def _placement_sql(i: str) -> tuple[str, str]:
    """The SQL of :func:`placement` for row number column ``i``.

    Integer division and modulo agree with Python's on SQLite and PostgreSQL
    for these non-negative integers. The statement has parameters, so the
    modulo operator is written ``%%``.
    """
    slot = f"{i} %% 1000"
    project_cases = " ".join(
        f"WHEN {slot} < {target.end_slot} THEN {target.project_id}"
        for target in TARGET_SETS
    )
    group_cases = " ".join(
        f"WHEN {slot} < {target.end_slot} "
        f"THEN {target.first_group} + ({i} / 1000 + {slot}) %% {TARGET_GROUPS}"
        for target in TARGET_SETS
    )
    project = f"CASE {project_cases} ELSE {_background_project_sql(i)} END"
    group = f"CASE {group_cases} ELSE {BACKGROUND_FIRST_GROUP} + {i} END"
    return project, group


_HASH_COLUMNS = "id, project_id, hash, group_id, date_added"
_GROUP_COLUMNS = "id, project_id, message"
_SQLITE_SERIES = (
    "WITH RECURSIVE seq(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM seq WHERE i < %s) "
)
_SQLITE_HASHES = (
    _SQLITE_SERIES + f"INSERT INTO sentry_grouphash ({_HASH_COLUMNS}) "
    "SELECT i, __PROJECT__, printf('%%032x', i), __GROUP__, %s FROM seq"
)
_SQLITE_GROUPS = (
    _SQLITE_SERIES + f"INSERT INTO sentry_groupedmessage ({_GROUP_COLUMNS}) "
    f"SELECT {BACKGROUND_FIRST_GROUP} + i, __PROJECT__, '' FROM seq "
    f"WHERE i %% 1000 >= {_BACKGROUND_FIRST_SLOT}"
)
_POSTGRESQL_SERIES = "FROM generate_series(%s::bigint, %s::bigint) AS seq(i)"
_POSTGRESQL_HASHES = (
    f"INSERT INTO sentry_grouphash ({_HASH_COLUMNS}) "
    f"SELECT i, __PROJECT__, lpad(to_hex(i), 32, '0'), __GROUP__, %s "
    f"{_POSTGRESQL_SERIES}"
)
_POSTGRESQL_GROUPS = (
    f"INSERT INTO sentry_groupedmessage ({_GROUP_COLUMNS}) "
    f"SELECT {BACKGROUND_FIRST_GROUP} + i, __PROJECT__, '' {_POSTGRESQL_SERIES} "
    f"WHERE i %% 1000 >= {_BACKGROUND_FIRST_SLOT}"
)


def generate(rows: int, *, progress: tqdm[Any]) -> None:
    """Fill the three (empty) tables with ``rows`` hashes; advance ``progress``."""
    _create_projects_and_target_groups()
    with _indexes_rebuilt_after():
        for first in range(1, rows + 1, CHUNK_ROWS):
            last = min(first + CHUNK_ROWS - 1, rows)
            with transaction.atomic():
                _insert_groups(first, last)
                _insert_hashes(first, last)
            progress.update(last - first + 1)
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Project, Group, GroupHash]
        ):
            cursor.execute(statement)


def _create_projects_and_target_groups() -> None:
    Project.objects.bulk_create(
        Project(id=p, slug=f"project-{p}", name=f"Project {p}")
        for p in range(1, PROJECTS + 1)
    )
    Group.objects.bulk_create(
        Group(id=group_id, project_id=target.project_id)
        for target in TARGET_SETS
        for group_id in target.group_ids
    )


@contextmanager
def _indexes_rebuilt_after() -> Iterator[None]:
    """On PostgreSQL, drop the two big tables' secondary indexes and foreign
    keys while the rows go in, and rebuild them after: one sort per index and
    one join per foreign key instead of a B-tree insertion and a lookup per
    row (several times faster at a million rows)."""
    rebuild: list[str] = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("sentry_groupedmessage", "sentry_grouphash"):
                rebuild += drop_secondary_indexes(cursor, table)
    yield
    with connection.cursor() as cursor:
        for statement in rebuild:
            cursor.execute(statement)


def _insert_groups(first: int, last: int) -> None:
    if connection.vendor == "sqlite":
        template, params = _SQLITE_GROUPS, [first, last]
    elif connection.vendor == "postgresql":
        template, params = _POSTGRESQL_GROUPS, [first, last]
    else:
        Group.objects.bulk_create(
            (
                Group(id=BACKGROUND_FIRST_GROUP + i, project_id=_background_project(i))
                for i in range(first, last + 1)
                if i % 1000 >= _BACKGROUND_FIRST_SLOT
            ),
            batch_size=5000,
        )
        return
    # Only integers computed here go into the SQL text; values are parameters.
    sql = template.replace("__PROJECT__", _background_project_sql("i"))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_hashes(first: int, last: int) -> None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any]
    if connection.vendor == "sqlite":
        template, params = _SQLITE_HASHES, [first, last, now]
    elif connection.vendor == "postgresql":
        template, params = _POSTGRESQL_HASHES, [now, first, last]
    else:
        GroupHash.objects.bulk_create(
            (
                GroupHash(id=i, project_id=project, hash=f"{i:032x}", group_id=group)
                for i in range(first, last + 1)
                for project, group in [placement(i)]
            ),
            batch_size=5000,
        )
        return
    project_sql, group_sql = _placement_sql("i")
    sql = template.replace("__PROJECT__", project_sql).replace("__GROUP__", group_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
