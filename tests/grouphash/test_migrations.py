"""Both index migrations apply and reverse on every database."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.writer import OperationWriter
from django.test.utils import override_settings

from tests.grouphash.factories import GroupHashFactory

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.db.migrations.operations.base import Operation

MAIN = "rangeqs.examples.grouphash.migrations"
ALTERNATIVE = "rangeqs.examples.grouphash.alternative_migrations"
INITIAL = ("grouphash", "0001_initial")
OPTION_1 = ("grouphash", "0002_add_grouphash_group_id_index")
OPTION_2 = ("grouphash", "0002_add_grouphash_project_group_id_index")

pytestmark = pytest.mark.django_db(transaction=True)


def grouphash_indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, "sentry_grouphash"
        )
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] and not info["primary_key"]
    }


def migrate(module: str, target: tuple[str, str]) -> None:
    with override_settings(MIGRATION_MODULES={"grouphash": module}):
        MigrationExecutor(connection).migrate([target])


@pytest.fixture
def at_initial_schema() -> Iterator[None]:
    """Start from 0001 and leave the test database as the suite expects it."""
    migrate(MAIN, INITIAL)
    try:
        yield
    finally:
        migrate(MAIN, INITIAL)
        migrate(MAIN, OPTION_1)


@pytest.mark.usefixtures("at_initial_schema")
@pytest.mark.parametrize(
    ("module", "target", "index_name", "columns"),
    [
        (MAIN, OPTION_1, "sentry_grouphash_group_id_idx", ["group_id", "id"]),
        (
            ALTERNATIVE,
            OPTION_2,
            "sentry_grouphash_project_group_id_idx",
            ["project_id", "group_id", "id"],
        ),
    ],
    ids=["option-1", "option-2"],
)
def test_migration_adds_the_index_and_its_reverse_drops_it(
    module: str, target: tuple[str, str], index_name: str, columns: list[str]
) -> None:
    assert index_name not in grouphash_indexes()

    migrate(module, target)
    assert grouphash_indexes()[index_name] == columns

    migrate(module, INITIAL)
    assert index_name not in grouphash_indexes()


@pytest.mark.usefixtures("at_initial_schema")
@pytest.mark.parametrize(
    ("module", "target"), [(MAIN, OPTION_1), (ALTERNATIVE, OPTION_2)]
)
def test_migration_analyzes_the_table_on_postgresql(
    module: str, target: tuple[str, str], vendor: str
) -> None:
    if vendor != "postgresql":
        pytest.skip("ANALYZE runs on PostgreSQL only")
    GroupHashFactory.create_batch(3)

    migrate(module, target)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'sentry_grouphash'"
        )
        assert cursor.fetchone() == (3,)


@pytest.mark.parametrize(
    "module_name",
    [
        f"{MAIN}.0002_add_grouphash_group_id_index",
        f"{ALTERNATIVE}.0002_add_grouphash_project_group_id_index",
    ],
)
def test_migration_runs_after_deployment_outside_a_transaction(
    module_name: str,
) -> None:
    migration = importlib.import_module(module_name).Migration
    assert migration.atomic is False
    assert migration.is_post_deployment is True


def serialize(operation: Operation) -> str:
    source, _imports = OperationWriter(operation).serialize()
    return source


def test_alternative_initial_migration_matches_the_main_one() -> None:
    main = importlib.import_module(f"{MAIN}.0001_initial").Migration
    alternative = importlib.import_module(f"{ALTERNATIVE}.0001_initial").Migration
    assert [serialize(op) for op in alternative.operations] == [
        serialize(op) for op in main.operations
    ]
