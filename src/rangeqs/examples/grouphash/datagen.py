"""Generate a GroupHash table shaped like the incident's (237k of 5M rows).

Row ``i`` (ids 1..N) goes, by a fixed rule, to one of three sets:

- dense: 4.7 % of the rows, in 100 groups of project 1 (the seed's ~237k
  rows out of 5M);
- sparse: 1 % of the rows, in 100 groups of project 2;
- rare: 0.1 % of the rows, in 100 groups of project 1: a set that is a
  sliver of the table, as the incident's 237k rows are of production's;
- the rest: background groups, half of them in project 1 (a big customer),
  the others spread over nine more projects.

The target sets' ids are interleaved with the rest of the table, as in
production where a group's hashes arrive over time. The rows are generated in
the database (a recursive CTE on SQLite, ``generate_series`` on PostgreSQL)
or, elsewhere, with ``bulk_create`` in chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from rangeqs.examples.grouphash.models import Group, GroupHash, Project

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["TARGET_SETS", "TargetSet", "generate", "placement"]

TARGET_GROUPS = 100
PROJECTS = 10
CHUNK_ROWS = 50_000


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
    TargetSet("sparse", project_id=2, first_group=101, first_slot=47, per_mille=10),
    TargetSet("rare", project_id=1, first_group=201, first_slot=57, per_mille=1),
)
BACKGROUND_FIRST_GROUP = 301


def background_groups(rows: int) -> int:
    return max(10, rows // 1000)


def placement(i: int, background: int) -> tuple[int, int]:
    """``(project_id, group_id)`` of row ``i``: the rule the SQL below encodes."""
    slot = i % 1000
    for target in TARGET_SETS:
        if slot < target.end_slot:
            group = target.first_group + (i // 1000 + slot) % TARGET_GROUPS
            return target.project_id, group
    group = i % background
    return _background_project(group), BACKGROUND_FIRST_GROUP + group


def _background_project(group: int) -> int:
    """Half the background groups are project 1's: the dense set sits in a big
    project, as a big customer's would, so the tenant filter alone narrows
    little."""
    return 1 if group % 2 == 0 else 2 + group % (PROJECTS - 1)


def _placement_sql(i: str, background: int) -> tuple[str, str]:
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
    project = (
        f"CASE {project_cases} "
        f"WHEN ({i} %% {background}) %% 2 = 0 THEN 1 "
        f"ELSE 2 + ({i} %% {background}) %% {PROJECTS - 1} END"
    )
    group = (
        f"CASE {group_cases} ELSE {BACKGROUND_FIRST_GROUP} + {i} %% {background} END"
    )
    return project, group


_COLUMNS = "id, project_id, hash, group_id, date_added"
_SQLITE_INSERT = f"""
WITH RECURSIVE seq(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM seq WHERE i < %s)
INSERT INTO sentry_grouphash ({_COLUMNS})
SELECT i, __PROJECT__, printf('%%032x', i), __GROUP__, %s FROM seq
"""
_POSTGRESQL_INSERT = f"""
INSERT INTO sentry_grouphash ({_COLUMNS})
SELECT i, __PROJECT__, lpad(to_hex(i), 32, '0'), __GROUP__, %s
FROM generate_series(%s::bigint, %s::bigint) AS seq(i)
"""


def generate(rows: int, *, progress: tqdm[Any]) -> None:
    """Fill the three (empty) tables with ``rows`` hashes; advance ``progress``."""
    background = background_groups(rows)
    _create_projects_and_groups(background)
    for first in range(1, rows + 1, CHUNK_ROWS):
        last = min(first + CHUNK_ROWS - 1, rows)
        with transaction.atomic():
            _insert_rows(first, last, background)
        progress.update(last - first + 1)
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Project, Group, GroupHash]
        ):
            cursor.execute(statement)


def _create_projects_and_groups(background: int) -> None:
    Project.objects.bulk_create(
        Project(id=p, slug=f"project-{p}", name=f"Project {p}")
        for p in range(1, PROJECTS + 1)
    )
    targets = [
        Group(id=group_id, project_id=target.project_id)
        for target in TARGET_SETS
        for group_id in target.group_ids
    ]
    others = [
        Group(id=BACKGROUND_FIRST_GROUP + g, project_id=_background_project(g))
        for g in range(background)
    ]
    Group.objects.bulk_create(targets + others, batch_size=1000)


def _insert_rows(first: int, last: int, background: int) -> None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any]
    if connection.vendor == "sqlite":
        template, params = _SQLITE_INSERT, [first, last, now]
    elif connection.vendor == "postgresql":
        template, params = _POSTGRESQL_INSERT, [now, first, last]
    else:
        GroupHash.objects.bulk_create(
            (
                GroupHash(id=i, project_id=project, hash=f"{i:032x}", group_id=group)
                for i in range(first, last + 1)
                for project, group in [placement(i, background)]
            ),
            batch_size=5000,
        )
        return
    # Only integers computed here go into the SQL text; values are parameters.
    project_sql, group_sql = _placement_sql("i", background)
    sql = template.replace("__PROJECT__", project_sql).replace("__GROUP__", group_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
