"""A tenant table whose filter is correlated with the IN column (issue 10).

Every group belongs to one project, so ``project_id = X AND group_id IN
(groups of X)`` matches far more rows than a planner that multiplies the two
selectivities expects: the data the bounded-page tests walk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection, models

if TYPE_CHECKING:
    from django.db.models import QuerySet

__all__ = ["BoundedRow"]


class BoundedRow(models.Model):
    """Shaped like sentry_grouphash: the seed's ``(group_id, id)`` index and
    the index a foreign key to the project would have."""

    id = models.BigAutoField(primary_key=True)
    project_id = models.IntegerField()
    group_id = models.IntegerField()
    hash = models.CharField(max_length=32, default="")

    class Meta:
        indexes = [
            models.Index(fields=["group_id", "id"], name="bounded_row_group_id"),
            models.Index(fields=["project_id"], name="bounded_row_project"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.group_id}/{self.pk}"


TABLE = BoundedRow._meta.db_table


def _groups(vendor: str) -> dict[int, tuple[int, int]]:
    """Group -> (project, rows), skewed as misleads each vendor's planner
    (measured on 15, 18, SQLite 3.40 and MariaDB 10.11):

    - PostgreSQL: 20 projects of equal size; the planner multiplies the
      selectivities of the tenant filter and the IN list.
    - SQLite: one big tenant among 999 small ones, so that its statistics
      make ``project_id = 0`` look more selective than the IN list.
    - MariaDB: a big tenant among 20 projects (it intersects both indexes).
    """
    if vendor == "sqlite":
        big = dict.fromkeys(range(50), (0, 200))
        return big | {group: (1 + (group - 50) // 2, 20) for group in range(50, 2048)}
    groups = {group: (group % 20, 50) for group in range(1000)}
    if vendor == "mysql":
        groups |= dict.fromkeys(range(50), (0, 50))
    return groups


def make_tenant() -> QuerySet[BoundedRow]:
    """Project 0's rows of its own groups, ids interleaved across all groups."""
    groups = _groups(connection.vendor)
    remaining = {group: rows for group, (_, rows) in groups.items()}
    made: list[BoundedRow] = []
    while remaining:
        for group in list(remaining):
            made.append(BoundedRow(project_id=groups[group][0], group_id=group))
            remaining[group] -= 1
            if not remaining[group]:
                del remaining[group]
    BoundedRow.objects.bulk_create(made, batch_size=5000)
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"ANALYZE TABLE {TABLE}")
            cursor.fetchall()
        elif connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {TABLE}")
        else:
            cursor.execute("ANALYZE")
    listed = [group for group, (project, _) in groups.items() if project == 0]
    return BoundedRow.objects.filter(project_id=0, group_id__in=listed)
