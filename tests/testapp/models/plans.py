"""Models for the IN-list plan tests (tests/plans)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["PlanRow", "PlanTag"]

# A linguistic or case-insensitive collation per test database, so that the
# plans are checked against an order Python's own would get wrong. The
# embedded PostgreSQL 18 is built without ICU; MariaDB's default collation,
# utf8mb4_general_ci, is already case-insensitive.
TAG_COLLATIONS = {
    "sqlite": "NOCASE",
    "postgresql15": "und-x-icu",
}


class PlanRow(models.Model):
    """Shaped like sentry_grouphash, with the seed's Option 1 index."""

    id = models.BigAutoField(primary_key=True)
    project_id = models.IntegerField()
    group_id = models.IntegerField()
    hash = models.CharField(max_length=32, default="")

    class Meta:
        indexes = [models.Index(fields=["group_id", "id"], name="plans_row_group_id")]

    def __str__(self) -> str:
        return f"{self.group_id}/{self.pk}"


class PlanTag(models.Model):
    """A text IN column under the database's collation, with an index on (tag, id)."""

    id = models.BigAutoField(primary_key=True)
    tag = models.CharField(
        max_length=20,
        db_collation=TAG_COLLATIONS.get(settings.RANGEQS_TEST_DATABASE),
    )

    class Meta:
        indexes = [models.Index(fields=["tag", "id"], name="plans_tag_tag_id")]

    def __str__(self) -> str:
        return self.tag
