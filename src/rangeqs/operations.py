"""Migration operations that add and remove an index without locking writes.

Use them in a migration with ``atomic = False``::

    from django.db import migrations, models

    from rangeqs.operations import AddIndexNonBlocking


    class Migration(migrations.Migration):
        atomic = False
        dependencies = [("grouphash", "0001_initial")]
        operations = [
            AddIndexNonBlocking(
                model_name="grouphash",
                index=models.Index(
                    fields=["group", "id"], name="sentry_grouphash_group_id_idx"
                ),
            ),
        ]

On PostgreSQL the index is built with ``CREATE INDEX CONCURRENTLY IF NOT
EXISTS``; on SQLite and MariaDB with a plain ``CREATE INDEX``, so one
migration runs everywhere. The model state changes as with Django's
``AddIndex``: list the index in the model's ``Meta.indexes`` and
``makemigrations`` sees nothing to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex, RemoveIndex

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import ProjectState
    from django.db.models import Index, Model

__all__ = ["AddIndexNonBlocking", "RemoveIndexNonBlocking"]

# A failed or cancelled concurrent build leaves an INVALID index behind under
# the name; IF NOT EXISTS would then keep that useless index forever.
_INVALID_INDEX_SQL = """
SELECT 1
FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid
WHERE pg_class.relname = %s
  AND NOT pg_index.indisvalid
  AND pg_table_is_visible(pg_class.oid)
"""

_INDEX_EXISTS_SQL = """
SELECT 1 FROM pg_class
WHERE pg_class.relname = %s AND pg_class.relkind = 'i'
  AND pg_table_is_visible(pg_class.oid)
"""

_CONCURRENTLY = "CREATE INDEX CONCURRENTLY "


class AddIndexNonBlocking(AddIndex):
    """``AddIndex`` that does not block writes on PostgreSQL.

    Forwards: on PostgreSQL, drop a leftover INVALID index of the same name,
    then ``CREATE INDEX CONCURRENTLY IF NOT EXISTS``; elsewhere ``CREATE
    INDEX``. Backwards: drop the index (concurrently on PostgreSQL).
    """

    def describe(self) -> str:
        return f"Concurrently create index {self.index.name} on model {self.model_name}"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _create_index(schema_editor, model, self.index, operation=self)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _drop_index(schema_editor, model, self.index, operation=self)


class RemoveIndexNonBlocking(RemoveIndex):
    """``RemoveIndex`` that does not block writes on PostgreSQL.

    Forwards: ``DROP INDEX CONCURRENTLY IF EXISTS`` on PostgreSQL, ``DROP
    INDEX`` elsewhere. Backwards: build it again as ``AddIndexNonBlocking``.
    """

    def describe(self) -> str:
        return f"Concurrently remove index {self.name} from {self.model_name}"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = _index_named(
                from_state, app_label, self.model_name_lower, self.name
            )
            _drop_index(schema_editor, model, index, operation=self)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = _index_named(to_state, app_label, self.model_name_lower, self.name)
            _create_index(schema_editor, model, index, operation=self)


def _index_named(
    state: ProjectState, app_label: str, model_name: str, name: str
) -> Index:
    index: Index = state.models[app_label, model_name].get_index_by_name(name)
    return index


def _concurrently(schema_editor: BaseDatabaseSchemaEditor, operation: Any) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            f"{type(operation).__name__} cannot run inside a transaction on "
            f"PostgreSQL: set `atomic = False` on the migration."
        )
    return True


def _create_index(
    schema_editor: BaseDatabaseSchemaEditor,
    model: type[Model],
    index: Index,
    *,
    operation: Any,
) -> None:
    if not _concurrently(schema_editor, operation):
        schema_editor.add_index(model, index)
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_INVALID_INDEX_SQL, [index.name])
        leftover_invalid = cursor.fetchone() is not None
    if leftover_invalid:
        schema_editor.execute(index.remove_sql(model, schema_editor, concurrently=True))
    # The statement as text (what schema_editor.execute() accepts from any
    # caller), given IF NOT EXISTS: no Statement internals.
    sql = str(index.create_sql(model, schema_editor, concurrently=True))
    if_not_exists = sql.replace(_CONCURRENTLY, f"{_CONCURRENTLY}IF NOT EXISTS ", 1)
    if if_not_exists == sql:
        # Another rendering than this Django's: the same effect by asking.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(_INDEX_EXISTS_SQL, [index.name])
            if cursor.fetchone() is not None:
                return
    schema_editor.execute(if_not_exists)


def _drop_index(
    schema_editor: BaseDatabaseSchemaEditor,
    model: type[Model],
    index: Index,
    *,
    operation: Any,
) -> None:
    if not _concurrently(schema_editor, operation):
        schema_editor.remove_index(model, index)
        return
    schema_editor.execute(index.remove_sql(model, schema_editor, concurrently=True))
