from __future__ import annotations

from django.apps import AppConfig


class JobsTestsConfig(AppConfig):
    """Tables the test handlers walk and write; no migrations."""

    name = "tests.jobs"
    label = "rangeqs_jobs_tests"
    default_auto_field = "django.db.models.BigAutoField"
