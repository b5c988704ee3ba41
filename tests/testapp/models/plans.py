"""Models for the IN-list plan tests (tests/plans)."""

from __future__ import annotations

from django.conf import settings
from django.db import connections, models
from django.db.models.signals import pre_migrate

__all__ = [
    "BareTag",
    "ExactRow",
    "LegacyKeyRow",
    "MixedSeenRow",
    "PatternTag",
    "PlanRow",
    "PlanTag",
    "SeenRow",
    "TextParent",
]

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


class SeenRow(models.Model):
    """Rows walked by ``(seen, id)`` within groups: the serving index
    ``(group_id, seen, id)``, and ``(seen, id)``, which gives that order too
    (as an index on a creation date does)."""

    id = models.BigAutoField(primary_key=True)
    group_id = models.IntegerField()
    seen = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["group_id", "seen", "id"], name="plans_seen_group"),
            models.Index(fields=["seen", "id"], name="plans_seen_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}/{self.seen}/{self.pk}"


class MixedSeenRow(models.Model):
    """Rows walked within groups by keys of mixed directions, ``("-seen",
    "id")`` (the serving index ``(group_id, -seen, id)``, and ``(-seen, id)``,
    which gives that order too), or with a key that may be NULL, ``("-seen",
    "hit", "id")`` (``(group_id, -seen, hit, id)``, and ``(-seen, hit,
    id)``); by ``id`` through ``(-group_id, id)``."""

    id = models.BigAutoField(primary_key=True)
    group_id = models.IntegerField()
    seen = models.IntegerField()
    hit = models.IntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["group_id", "-seen", "id"], name="plans_mixed_group"),
            models.Index(fields=["-seen", "id"], name="plans_mixed_seen"),
            models.Index(
                fields=["group_id", "-seen", "hit", "id"], name="plans_mixed_hit"
            ),
            models.Index(fields=["-seen", "hit", "id"], name="plans_mixed_seen_hit"),
            # The IN column backwards before keys forwards: read by id, the
            # index gives ORDER BY group_id DESC, id.
            models.Index(fields=["-group_id", "id"], name="plans_mixed_desc_group"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}/{self.seen}/{self.hit}/{self.pk}"


class BareTag(models.Model):
    """A text IN column whose model declares no collation, with an index on
    (tag, id): the tests give the column one outside Django."""

    id = models.BigAutoField(primary_key=True)
    tag = models.CharField(max_length=20)

    class Meta:
        indexes = [models.Index(fields=["tag", "id"], name="plans_bare_tag_id")]

    def __str__(self) -> str:
        return self.tag


class PatternTag(models.Model):
    """A text IN column whose index orders it by an operator class of its own
    (PostgreSQL's ``varchar_pattern_ops``), the primary key after it in its
    default one (no operator class named)."""

    id = models.BigAutoField(primary_key=True)
    tag = models.CharField(max_length=20)

    class Meta:
        indexes = [
            models.Index(
                fields=["tag", "id"],
                name="plans_pattern_tag_id",
                opclasses=["varchar_pattern_ops", ""],
            )
        ]

    def __str__(self) -> str:
        return self.tag


# Case-insensitive collations: text keys that the database finds equal where
# Python does not ("a" and "A"). PostgreSQL's must be nondeterministic, which
# only ICU provides; the embedded PostgreSQL 18 has none.
CASE_INSENSITIVE = {
    "sqlite": "NOCASE",
    "postgresql15": "rangeqs_case_insensitive",
    "mariadb": "utf8mb4_unicode_ci",
}
_CASE_INSENSITIVE_DDL = (
    "CREATE COLLATION IF NOT EXISTS rangeqs_case_insensitive "
    "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
)


def _create_collations(using: str = "default", **kwargs: object) -> None:
    # Collations belong to a database: made in the test database before its
    # tables, which have no migrations.
    if settings.RANGEQS_TEST_DATABASE != "postgresql15":
        return
    with connections[using].cursor() as cursor:
        cursor.execute(_CASE_INSENSITIVE_DDL)


pre_migrate.connect(_create_collations, dispatch_uid="rangeqs_test_collations")


class LegacyKeyRow(models.Model):
    """Columns whose names are not their attnames, the primary key's too."""

    key = models.IntegerField(primary_key=True, db_column="LegacyKey")
    score = models.IntegerField(db_column="LegacyScore")

    class Meta:
        indexes = [models.Index(fields=["score", "key"], name="plans_legacy_score")]

    def __str__(self) -> str:
        return f"{self.score}/{self.key}"


class TextParent(models.Model):
    """A text primary key compared case-insensitively."""

    code = models.CharField(
        primary_key=True,
        max_length=10,
        db_collation=CASE_INSENSITIVE.get(settings.RANGEQS_TEST_DATABASE),
    )

    def __str__(self) -> str:
        return self.code


class ExactRow(models.Model):
    """One column of each kind an IN list compares, for the exact-SQL tests."""

    id = models.BigAutoField(primary_key=True)
    small = models.SmallIntegerField(null=True)
    positive = models.PositiveIntegerField(null=True)
    big = models.BigIntegerField(null=True)
    # NULL, not "", so that a nullable leading text key has a NULL phase.
    code = models.CharField(  # noqa: DJ001
        max_length=5,
        null=True,
        db_collation=CASE_INSENSITIVE.get(settings.RANGEQS_TEST_DATABASE),
    )
    price = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    uid = models.UUIDField(null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    data = models.JSONField(null=True)
    parent = models.ForeignKey(
        TextParent, null=True, on_delete=models.CASCADE, related_name="rows"
    )

    class Meta:
        indexes = [
            models.Index(fields=["small", "id"], name="plans_exact_small"),
            models.Index(fields=["positive", "id"], name="plans_exact_positive"),
            models.Index(fields=["big", "id"], name="plans_exact_big"),
            models.Index(fields=["code", "id"], name="plans_exact_code"),
            models.Index(fields=["price", "id"], name="plans_exact_price"),
            models.Index(fields=["uid", "id"], name="plans_exact_uid"),
            models.Index(fields=["day", "id"], name="plans_exact_day"),
            models.Index(fields=["moment", "id"], name="plans_exact_moment"),
            models.Index(fields=["parent", "id"], name="plans_exact_parent"),
        ]

    def __str__(self) -> str:
        return str(self.pk)
