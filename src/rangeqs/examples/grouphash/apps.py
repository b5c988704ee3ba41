from __future__ import annotations

from django.apps import AppConfig


class GroupHashConfig(AppConfig):
    name = "rangeqs.examples.grouphash"
    label = "grouphash"
    verbose_name = "rangeqs example: GroupHash"
    default_auto_field = "django.db.models.BigAutoField"
