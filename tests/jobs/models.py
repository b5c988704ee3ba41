from __future__ import annotations

from django.db import models


class Item(models.Model):
    """A row a job walks."""

    number = models.IntegerField()
    group = models.IntegerField(null=True)

    def __str__(self) -> str:
        return f"item {self.pk}"


class Processed(models.Model):
    """Written by the database-only handler: one row per item per time handled."""

    item_id = models.BigIntegerField()
    batch_key = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.item_id} in {self.batch_key}"
