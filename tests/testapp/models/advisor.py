"""Models for the index advisor's tests.

``AdvisedEvent`` is the live table: the tests fill it and compare the
advisor's static verdict with each database's plan. ``IndexedThing`` has one
index of every source the advisor reads, for the static tests.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

__all__ = ["AdvisedEvent", "AdvisorOwner", "IndexedThing"]


class AdvisorOwner(models.Model):
    id = models.BigAutoField(primary_key=True)

    def __str__(self) -> str:
        return f"Owner {self.pk}"


class AdvisedEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    project = models.IntegerField()
    group = models.IntegerField(null=True)
    kind = models.SmallIntegerField()
    created = models.IntegerField()
    deleted = models.BooleanField(default=False)
    code = models.CharField(max_length=32)
    batch = models.IntegerField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["group", "id"], name="adv_event_group_id"),
            models.Index(
                fields=["project", "-created", "id"], name="adv_event_proj_created"
            ),
            models.Index(
                fields=["kind", "id"],
                name="adv_event_live_kind",
                condition=models.Q(deleted=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="adv_event_code_uniq"),
        ]

    def __str__(self) -> str:
        return f"Event {self.pk}"


class IndexedThing(models.Model):
    id = models.BigAutoField(primary_key=True)
    owner = models.ForeignKey(AdvisorOwner, on_delete=models.CASCADE)
    serial = models.CharField(max_length=20, unique=True)
    bucket = models.IntegerField(db_index=True)
    a = models.IntegerField()
    b = models.IntegerField()
    c = models.IntegerField()
    name = models.CharField(max_length=50)

    class Meta:
        unique_together = [("a", "b")]
        constraints = [
            models.UniqueConstraint(fields=["b", "c"], name="adv_thing_b_c_uniq"),
            models.UniqueConstraint(
                fields=["c"], condition=models.Q(a=1), name="adv_thing_c_when_a1"
            ),
        ]
        indexes = [
            models.Index(fields=["-a", "c"], name="adv_thing_a_desc_c"),
            models.Index(Lower("name"), name="adv_thing_lower_name"),
            models.Index(
                fields=["name"],
                name="adv_thing_name_pattern",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.serial
