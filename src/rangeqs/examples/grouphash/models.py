"""The three tables of the seed, with the production table names and indexes.

Only the columns that the deletion task and its queries touch are kept.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Project(models.Model):
    id = models.BigAutoField(primary_key=True)
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)

    class Meta:
        db_table = "sentry_project"

    def __str__(self) -> str:
        return self.slug


class Group(models.Model):
    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    message = models.TextField(blank=True, default="")

    class Meta:
        db_table = "sentry_groupedmessage"

    def __str__(self) -> str:
        return f"Group {self.pk}"


class GroupHash(models.Model):
    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True)
    hash = models.CharField(max_length=32)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, null=True)
    group_tombstone_id = models.PositiveIntegerField(null=True, db_index=True)
    state = models.PositiveIntegerField(null=True)
    date_added = models.DateTimeField(null=True, default=timezone.now)

    class Meta:
        db_table = "sentry_grouphash"
        unique_together = (("project", "hash"),)
        # Option 1 of the seed, added by migration 0002 (concurrently, after
        # deployment). The alternative migrations build Option 2 instead.
        indexes = [
            models.Index(fields=["group", "id"], name="sentry_grouphash_group_id_idx")
        ]

    def __str__(self) -> str:
        return self.hash
