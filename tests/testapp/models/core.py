"""Models for the core wrapper's tests (tests/core/)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = [
    "Article",
    "Entry",
    "Membership",
    "Owner",
    "SentryGroup",
    "SentryUser",
    "ShownEntry",
    "Tagging",
    "Topic",
    "TypedKey",
    "Uniqueness",
]

# A linguistic, case-insensitive collation where the database has one (the
# embedded PostgreSQL 18 is built without ICU): the keyset comparisons must
# follow it exactly as ORDER BY does.
LINGUISTIC_COLLATION = {
    "sqlite": "NOCASE",
    "postgresql15": "und-x-icu",
    "mariadb": "utf8mb4_unicode_ci",
}.get(settings.RANGEQS_TEST_DATABASE)


class Owner(models.Model):
    name = models.CharField(max_length=20, default="")

    def __str__(self) -> str:
        return self.name


class Entry(models.Model):
    """Rows for the property tests: small, duplicate-prone, nullable keys."""

    a = models.IntegerField(null=True)
    b = models.IntegerField(default=0)
    c = models.IntegerField(null=True)
    word = models.CharField(max_length=10, default="")
    folded = models.CharField(
        max_length=10, default="", db_collation=LINGUISTIC_COLLATION
    )
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, null=True)

    class Meta:
        # The wrapper replaces a model's default ordering.
        ordering = ["-b"]
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return f"Entry {self.pk}"


class ShownEntry(Entry):
    """An Entry whose loaded rows show ``b`` negated, as a model may rewrite a
    value for display in ``from_db``: positions must come from the database."""

    class Meta:
        proxy = True

    @classmethod
    def from_db(
        cls,
        db: str | None,
        field_names: Collection[str],
        values: Collection[Any],
        **kwargs: Any,
    ) -> ShownEntry:
        instance = super().from_db(db, field_names, values, **kwargs)
        if "b" in instance.__dict__:
            instance.b = -instance.b
        return instance


class TypedKey(models.Model):
    """One column per key type a cursor must carry."""

    number = models.IntegerField(null=True)
    # NULL text keys are part of what the cursor must carry.
    text = models.CharField(max_length=20, null=True)  # noqa: DJ001
    flag = models.BooleanField(null=True)
    amount = models.DecimalField(max_digits=12, decimal_places=4, null=True)
    token = models.UUIDField(null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    ratio = models.FloatField(null=True)
    blob = models.BinaryField(null=True)

    def __str__(self) -> str:
        return f"TypedKey {self.pk}"


class Uniqueness(models.Model):
    """Every way a set of columns can, or cannot, be unique."""

    slug = models.CharField(max_length=20, unique=True)
    # Unique but nullable: several rows may hold NULL, so it is not a unique key.
    maybe = models.CharField(max_length=20, unique=True, null=True)  # noqa: DJ001
    x = models.IntegerField(default=0)
    y = models.IntegerField(default=0)
    p = models.IntegerField(default=0)
    q = models.IntegerField(default=0)
    r = models.IntegerField(null=True)
    s = models.IntegerField(default=0)
    t = models.IntegerField(default=0)
    plain = models.IntegerField(default=0)

    class Meta:
        unique_together = [("p", "q")]
        constraints = [
            models.UniqueConstraint(fields=["x", "y"], name="uniqueness_x_y"),
            models.UniqueConstraint(fields=["y", "r"], name="uniqueness_y_r"),
            models.UniqueConstraint(
                fields=["s"], condition=models.Q(t=0), name="uniqueness_s_if_t"
            ),
            models.UniqueConstraint(Lower("slug"), "t", name="uniqueness_lower_slug"),
        ]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    """A composite primary key (Django 5.2+): ``"pk"`` is (team, member)."""

    pk = models.CompositePrimaryKey("team", "member")
    team = models.IntegerField()
    member = models.IntegerField()
    role = models.CharField(max_length=10, default="")

    def __str__(self) -> str:
        return f"Membership {self.team}/{self.member}"


class Topic(models.Model):
    name = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """Multi-valued relations: a reverse foreign key and a many-to-many."""

    title = models.CharField(max_length=20, default="")
    topics = models.ManyToManyField(Topic, related_name="articles")

    def __str__(self) -> str:
        return self.title


class Tagging(models.Model):
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="taggings"
    )
    label = models.CharField(max_length=10)

    def __str__(self) -> str:
        return self.label


class SentryUser(models.Model):
    """The fields Sentry's wrapper tests use on its User model."""

    username = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=40, default="")

    def __str__(self) -> str:
        return self.username


class SentryGroup(models.Model):
    """The fields Sentry's wrapper tests use on its Group model."""

    project = models.IntegerField(default=1)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"SentryGroup {self.pk}"
