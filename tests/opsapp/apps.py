from __future__ import annotations

from django.apps import AppConfig


class OpsAppConfig(AppConfig):
    """An app with migrations, to run rangeqs.operations forwards and backwards."""

    name = "tests.opsapp"
    label = "rangeqs_opsapp"
    default_auto_field = "django.db.models.BigAutoField"
