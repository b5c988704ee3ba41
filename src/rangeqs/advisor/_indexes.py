"""The indexes a model's table has, named as the database names them (no query).

The indexes themselves come from the model's declarations
(:func:`rangeqs._declared_indexes.declared_indexes`, shared with the plan
chooser); this adds the names only the schema editor knows, for the report.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rangeqs._declared_indexes import (
    IndexColumn,
    IndexFacts,
    ModelIndex,
    declared_indexes,
    pk_is_rowid,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

__all__ = ["IndexColumn", "ModelIndex", "model_indexes"]


def model_indexes(
    model: type[Model], connection: BaseDatabaseWrapper
) -> tuple[ModelIndex, ...]:
    """Every index the table of ``model`` has on ``connection``, pk first."""
    indexes = declared_indexes(
        model,
        IndexFacts.read(connection),
        pk_is_rowid=pk_is_rowid(model, connection),
    )
    if all(index.naming is None for index in indexes):
        return indexes
    # Index names come from the schema editor's private naming helpers, the
    # same ones that named the indexes when Django created them.
    editor: Any = connection.schema_editor()
    return tuple(
        index
        if index.naming is None
        else replace(index, name=_schema_editor_name(model, index, editor))
        for index in indexes
    )


def _schema_editor_name(model: type[Model], index: ModelIndex, editor: Any) -> str:
    table = model._meta.db_table
    declared = index.columns[:-1] if index.pk_appended else index.columns
    columns = [column.column for column in declared]
    if index.naming == "foreign_key":
        return str(
            editor._fk_constraint_name(
                model, declared[0].field, "_fk_%(to_table)s_%(to_column)s"
            )
        ).strip("`")
    suffix = "_uniq" if index.naming == "unique_together" else ""
    return str(editor._create_index_name(table, columns, suffix=suffix))
