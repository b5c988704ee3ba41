from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "rangeqs.jobs"
    label = "rangeqs_jobs"
    verbose_name = "rangeqs jobs"
    default_auto_field = "django.db.models.BigAutoField"
