from __future__ import annotations

from io import StringIO
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.db import DatabaseError, NotSupportedError, connection, models
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.writer import MigrationWriter

from rangeqs.operations import AddIndexNonBlocking, RemoveIndexNonBlocking

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.db.migrations.state import ProjectState

APP = "rangeqs_opsapp"
TABLE = "rangeqs_opsapp_widget"
INDEX = "opsapp_widget_size_id"

pytestmark = pytest.mark.django_db(transaction=True)


def _indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] and not info["primary_key"]
    }


def _migrate_to(name: str) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([(APP, name)])


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    yield
    _migrate_to("0003_remove_widget_size_id")


@pytest.mark.usefixtures("back_to_latest")
def test_migrations_add_and_remove_the_index_forwards_and_backwards() -> None:
    assert INDEX not in _indexes()
    _migrate_to("0002_widget_size_id")  # backwards through RemoveIndexNonBlocking
    assert _indexes()[INDEX] == ["size", "id"]
    _migrate_to("0001_initial")  # backwards through AddIndexNonBlocking
    assert INDEX not in _indexes()
    _migrate_to("0002_widget_size_id")  # forwards through AddIndexNonBlocking
    assert _indexes()[INDEX] == ["size", "id"]
    _migrate_to("0003_remove_widget_size_id")  # forwards, RemoveIndexNonBlocking
    assert INDEX not in _indexes()


@pytest.mark.usefixtures("back_to_latest")
def test_add_is_a_no_op_when_a_valid_index_of_that_name_exists() -> None:
    _migrate_to("0001_initial")
    with connection.schema_editor() as editor:
        editor.execute(f"CREATE INDEX {INDEX} ON {TABLE} (size, id)")
    if connection.vendor == "postgresql":
        _migrate_to("0002_widget_size_id")
        assert _indexes()[INDEX] == ["size", "id"]
    else:
        # Only PostgreSQL has CREATE INDEX ... IF NOT EXISTS semantics here;
        # elsewhere the plain CREATE INDEX refuses the duplicate name.
        with pytest.raises(DatabaseError, match=INDEX):
            _migrate_to("0002_widget_size_id")
        with connection.schema_editor() as editor:
            editor.execute(
                f"DROP INDEX {INDEX}"
                + (f" ON {TABLE}" if connection.vendor == "mysql" else "")
            )


@pytest.mark.usefixtures("back_to_latest")
def test_add_rebuilds_an_invalid_index_left_by_a_failed_concurrent_build(
    vendor: str,
) -> None:
    if vendor != "postgresql":
        pytest.skip("INVALID indexes exist on PostgreSQL only")
    _migrate_to("0001_initial")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {INDEX} ON {TABLE} (colour)")
        # What a cancelled CREATE INDEX CONCURRENTLY leaves behind.
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
            [INDEX],
        )
    _migrate_to("0002_widget_size_id")
    assert _indexes()[INDEX] == ["size", "id"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [INDEX]
        )
        assert cursor.fetchone() == (True,)


def _widget_state() -> ProjectState:
    executor = MigrationExecutor(connection)
    return executor.loader.project_state((APP, "0001_initial"))


def test_refuses_to_run_inside_a_transaction_on_postgresql(vendor: str) -> None:
    operation = AddIndexNonBlocking(
        model_name="widget",
        index=models.Index(fields=["colour"], name="opsapp_widget_colour"),
    )
    from_state = _widget_state()
    to_state = from_state.clone()
    operation.state_forwards(APP, to_state)
    if vendor != "postgresql":
        with connection.schema_editor(atomic=True) as editor:
            operation.database_forwards(APP, editor, from_state, to_state)
            operation.database_backwards(APP, editor, to_state, from_state)
        assert "opsapp_widget_colour" not in _indexes()
        return
    with (
        pytest.raises(
            NotSupportedError,
            match=r"^AddIndexNonBlocking cannot run inside a transaction on "
            r"PostgreSQL: set `atomic = False` on the migration\.$",
        ),
        connection.schema_editor(atomic=True) as editor,
    ):
        operation.database_forwards(APP, editor, from_state, to_state)


def test_state_changes_like_add_index_and_remove_index() -> None:
    index = models.Index(fields=["size", "id"], name=INDEX)
    state = _widget_state()
    AddIndexNonBlocking(model_name="widget", index=index).state_forwards(APP, state)
    assert [i.name for i in state.models[APP, "widget"].options["indexes"]] == [INDEX]
    RemoveIndexNonBlocking(model_name="widget", name=INDEX).state_forwards(APP, state)
    assert state.models[APP, "widget"].options["indexes"] == []


def test_migration_state_matches_the_models() -> None:
    call_command("makemigrations", APP, check=True, dry_run=True, verbosity=0)


def test_operations_serialize_with_their_own_import() -> None:
    operation = AddIndexNonBlocking(
        model_name="widget", index=models.Index(fields=["size", "id"], name=INDEX)
    )
    source, imports = MigrationWriter.serialize(operation)
    assert source.startswith("rangeqs.operations.AddIndexNonBlocking(")
    assert "import rangeqs.operations" in imports
    assert operation.describe() == (
        f"Concurrently create index {INDEX} on model widget"
    )
    assert RemoveIndexNonBlocking(model_name="widget", name=INDEX).describe() == (
        f"Concurrently remove index {INDEX} from widget"
    )


def test_sqlmigrate_shows_the_statements(vendor: str) -> None:
    forwards, backwards = StringIO(), StringIO()
    call_command("sqlmigrate", APP, "0002_widget_size_id", stdout=forwards)
    call_command(
        "sqlmigrate", APP, "0002_widget_size_id", backwards=True, stdout=backwards
    )
    if vendor == "postgresql":
        assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "opsapp_widget_size_id"' in (
            forwards.getvalue()
        )
        assert 'DROP INDEX CONCURRENTLY IF EXISTS "opsapp_widget_size_id"' in (
            backwards.getvalue()
        )
    else:
        assert "CREATE INDEX" in forwards.getvalue()
        assert "CONCURRENTLY" not in forwards.getvalue()
        assert "DROP INDEX" in backwards.getvalue()
