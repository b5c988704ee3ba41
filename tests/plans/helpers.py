"""Rows and plans for the IN-list plan tests."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from django.db import connection

from rangeqs._plans.bounded import SETTINGS_COMMENT
from tests.testapp.models import PlanRow, PlanTag

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from django.db.models import QuerySet


#: The index condition by which a merge page looks its rows up in the primary
#: key, by the keys it read first (an array computed once).
ROWS_BY_KEYS = re.compile(r"\(id = ANY \((\$\d+|\(InitPlan \d+\)\.col\d+)\)\)")


def row_statements(queries: Iterable[Mapping[str, Any]]) -> list[str]:
    """The captured statements but a guarded page's settings, set and restored
    around it inside a transaction (``wrapper.queries`` leaves them out too)."""
    return [
        query["sql"]
        for query in queries
        if not str(query["sql"]).startswith(SETTINGS_COMMENT)
    ]


def make_rows(
    rows_per_group: Mapping[int, int], *, project_id: int = 1
) -> list[PlanRow]:
    """Rows of each group, ids interleaved across the groups as in production."""
    remaining = dict(rows_per_group)
    rows: list[PlanRow] = []
    while remaining:
        for group in list(remaining):
            rows.append(PlanRow(project_id=project_id, group_id=group))
            remaining[group] -= 1
            if not remaining[group]:
                del remaining[group]
    return PlanRow.objects.bulk_create(rows)


def make_runs(runs: Iterable[tuple[int, int]], *, project_id: int = 1) -> list[PlanRow]:
    """Rows in id order: ``count`` rows of group ``group`` for each run."""
    return PlanRow.objects.bulk_create(
        [
            PlanRow(project_id=project_id, group_id=group)
            for group, count in runs
            for _ in range(count)
        ]
    )


def make_tags(tags: Iterable[str]) -> list[PlanTag]:
    return PlanTag.objects.bulk_create(PlanTag(tag=tag) for tag in tags)


def explain(queryset: QuerySet[Any, Any]) -> str:
    """The database's plan for ``queryset``, as one string, with the index forced
    where the planner would rather scan a tiny test table."""
    sql, params = queryset.query.sql_with_params()
    return explain_sql(sql, params)


def explain_sql(sql: str, params: Sequence[Any] = ()) -> str:
    """The plan of one SELECT (see :func:`explain`)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            raw = cursor.fetchone()[0]
            plan = raw if isinstance(raw, list) else json.loads(raw)
            return json.dumps(plan)
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " | ".join(str(row[3]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}", params)
        return " | ".join(
            f"{row[1]}:{row[3]}:{row[2]}:{row[5]}:{row[9]}" for row in cursor.fetchall()
        )
