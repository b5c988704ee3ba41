"""Move the example's schema between the migration states the demo compares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import override_settings

if TYPE_CHECKING:
    from django.db.models import Model

__all__ = [
    "ALTERNATIVE_MIGRATIONS",
    "INITIAL",
    "MAIN_MIGRATIONS",
    "OPTION_1",
    "OPTION_2",
    "historical_grouphash",
    "migrate",
]

MAIN_MIGRATIONS = "rangeqs.examples.grouphash.migrations"
ALTERNATIVE_MIGRATIONS = "rangeqs.examples.grouphash.alternative_migrations"
INITIAL = "0001_initial"
OPTION_1 = "0002_add_grouphash_group_id_index"
OPTION_2 = "0002_add_grouphash_project_group_id_index"


def migrate(target: str | None, *, module: str = MAIN_MIGRATIONS) -> None:
    """Migrate app ``grouphash`` to ``target`` (None: unapply everything)."""
    with override_settings(MIGRATION_MODULES={"grouphash": module}):
        MigrationExecutor(connection).migrate([("grouphash", target)])


def historical_grouphash(
    migration: str, *, module: str = MAIN_MIGRATIONS
) -> type[Model]:
    """GroupHash as of ``migration``: its indexes are those the advisor sees."""
    with override_settings(MIGRATION_MODULES={"grouphash": module}):
        loader = MigrationExecutor(connection).loader
        state = loader.project_state(("grouphash", migration), at_end=True)
    return state.apps.get_model("grouphash", "GroupHash")
