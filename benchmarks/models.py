"""The benchmark's own tables, independent of the example app's migrations.

Tables are created and dropped by :mod:`benchmarks.schema`, never migrated.
"""

from __future__ import annotations

from django.db import models

__all__ = ["BenchGroupHash", "BenchItem"]


class BenchItem(models.Model):
    """Issue 2's table: keyset by pk, and by the indexed compound ``(a, pk)``."""

    a = models.IntegerField()
    payload = models.CharField(max_length=32)

    # Declared because the app is not installed under the type checker's
    # settings, so django-stubs would not add the default manager.
    objects: models.Manager[BenchItem] = models.Manager()

    class Meta:
        app_label = "benchmarks"
        db_table = "rangeqs_bench_item"
        indexes = [models.Index(fields=["a", "id"], name="rangeqs_bench_item_a_id")]

    def __str__(self) -> str:
        return f"BenchItem {self.pk}"


class BenchGroupHash(models.Model):
    """Shaped like Sentry's ``sentry_grouphash`` with the seed's Option 1 index.

    Plain integer columns rather than foreign keys: the benchmark needs the
    indexes of findings section 1, not the referenced tables.
    """

    project_id = models.BigIntegerField()
    group_id = models.BigIntegerField(db_index=True)
    hash = models.CharField(max_length=32)

    objects: models.Manager[BenchGroupHash] = models.Manager()

    class Meta:
        app_label = "benchmarks"
        db_table = "rangeqs_bench_grouphash"
        constraints = [
            models.UniqueConstraint(
                fields=["project_id", "hash"], name="rangeqs_bench_gh_project_hash"
            )
        ]
        indexes = [
            models.Index(fields=["group_id", "id"], name="rangeqs_bench_gh_group_id_id")
        ]

    def __str__(self) -> str:
        return f"BenchGroupHash {self.pk}"
