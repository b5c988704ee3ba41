"""A tenant table whose filter is correlated with the IN column (issue 10).

Every group belongs to one project, so ``project_id = X AND group_id IN
(groups of X)`` matches far more rows than a planner that multiplies the two
selectivities expects: the data the bounded-page tests walk.
"""

from __future__ import annotations

from django.db import models

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
