"""Operations shared by both migration packages of the example."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import migrations

if TYPE_CHECKING:
    from django.apps.registry import Apps
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor

__all__ = ["analyze_grouphash"]


def _analyze(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Fresh statistics let the planner pick the new index at once (the
    # seed's note); autovacuum would get there, but only eventually.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE sentry_grouphash")


def analyze_grouphash() -> migrations.RunPython:
    """``ANALYZE sentry_grouphash`` on PostgreSQL; nothing elsewhere or backwards."""
    return migrations.RunPython(_analyze, migrations.RunPython.noop, elidable=True)
