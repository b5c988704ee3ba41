"""The indexes a model's table has, read from the model (no query).

Sources: the primary key, ``unique=True``, ``db_index=True``, foreign keys,
``Meta.indexes``, ``unique_together`` and ``UniqueConstraint``. Indexes that
the database cannot build (partial indexes on MariaDB, expression indexes
where unsupported) are left out, as Django's schema editor leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.db.models import ForeignKey, Index, UniqueConstraint

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Model, Q

__all__ = ["IndexColumn", "ModelIndex", "model_indexes"]


@dataclass(frozen=True)
class IndexColumn:
    field: Field[Any, Any]
    descending: bool = False
    #: A non-default operator class (PostgreSQL) orders by other rules than
    #: the column's: the column can still be matched by equality, never by
    #: ORDER BY.
    opclass: str | None = None

    @property
    def column(self) -> str:
        return str(self.field.column)

    @property
    def attname(self) -> str:
        return str(self.field.attname)


@dataclass(frozen=True)
class ModelIndex:
    name: str
    #: Where the index comes from, as a user would look for it in the model.
    source: str
    columns: tuple[IndexColumn, ...]
    unique: bool = False
    #: The WHERE clause of a partial index.
    condition: Q | None = None
    #: Indexes on expressions (``Index(Lower("name"))``) hold no plain column.
    expression: bool = False
    #: The database added the primary key after the declared columns.
    pk_appended: bool = False

    def describe(self) -> str:
        if self.expression:
            return f"{self.name} (an expression index, {self.source})"
        columns = ", ".join(
            f"{column.attname} DESC" if column.descending else column.attname
            for column in self.columns
        )
        return f"{self.name} ({columns}; {self.source})"


def model_indexes(
    model: type[Model], connection: BaseDatabaseWrapper
) -> tuple[ModelIndex, ...]:
    """Every index the table of ``model`` has on ``connection``, pk first."""
    # Index names come from the schema editor's private naming helpers, the
    # same ones that named the indexes when Django created them.
    editor: Any = connection.schema_editor()
    opts = model._meta
    table = opts.db_table
    found: list[ModelIndex] = []
    pk = opts.pk
    assert pk is not None
    found.append(
        ModelIndex(
            name=_pk_name(table, connection),
            source="primary key",
            columns=(IndexColumn(pk),),
            unique=True,
        )
    )
    unique_fields = 0
    for field in opts.local_concrete_fields:
        if field.primary_key:
            continue
        if field.unique:
            unique_fields += 1
            found.append(
                ModelIndex(
                    name=_unique_field_index_name(
                        table, field, unique_fields, connection
                    ),
                    source=f"{field.name} unique=True",
                    columns=(IndexColumn(field),),
                    unique=True,
                )
            )
        elif getattr(field, "db_index", False):
            found.append(_single_field_index(model, field, editor))
    for group in opts.unique_together:
        fields: list[Any] = [opts.get_field(name) for name in group]
        found.append(
            ModelIndex(
                name=editor._create_index_name(
                    table, [f.column for f in fields], suffix="_uniq"
                ),
                source="unique_together",
                columns=tuple(IndexColumn(f) for f in fields),
                unique=True,
            )
        )
    for constraint in opts.constraints:
        if isinstance(constraint, UniqueConstraint):
            index = _from_unique_constraint(model, constraint, connection)
            if index is None:
                continue
            if connection.vendor == "sqlite" and index.condition is None:
                # Declared in CREATE TABLE: SQLite numbers it after the
                # unique columns and ignores the constraint's name.
                unique_fields += 1
                index = replace(index, name=f"sqlite_autoindex_{table}_{unique_fields}")
            found.append(index)
    for meta_index in opts.indexes:
        index = _from_meta_index(model, meta_index, connection)
        if index is not None:
            found.append(index)
    appended = _appended_pk(pk, connection)
    if appended:
        found = [_extended_by_pk(index, pk, appended) for index in found]
    return tuple(found)


def _appended_pk(pk: Field[Any, Any], connection: BaseDatabaseWrapper) -> str | None:
    """Who appends the primary key to every index, if anyone.

    MariaDB's InnoDB stores the primary key at the end of every secondary
    index and its optimizer (extended_keys, on by default) uses it. SQLite
    ends every index with the rowid, which an ``integer`` primary key is.
    Either way an index on (group_id) is one on (group_id, id) there.
    """
    if connection.vendor == "mysql":
        return "the primary key InnoDB appends"
    if connection.vendor == "sqlite" and pk.db_type(connection) == "integer":
        return "the rowid SQLite appends"
    return None


def _pk_name(table: str, connection: BaseDatabaseWrapper) -> str:
    if connection.vendor == "postgresql":
        return f"{table}_pkey"
    if connection.vendor == "mysql":
        return "PRIMARY"
    return "PRIMARY KEY"


def _unique_field_index_name(
    table: str, field: Field[Any, Any], position: int, connection: BaseDatabaseWrapper
) -> str:
    # Django declares unique=True inline in CREATE TABLE, so the database
    # names the index itself.
    if connection.vendor == "postgresql":
        return f"{table}_{field.column}_key"
    if connection.vendor == "mysql":
        return str(field.column)
    return f"sqlite_autoindex_{table}_{position}"


def _single_field_index(
    model: type[Model], field: Field[Any, Any], editor: Any
) -> ModelIndex:
    table = model._meta.db_table
    if isinstance(field, ForeignKey):
        source = f"{field.name} foreign key"
        if editor.connection.vendor == "mysql" and getattr(
            field, "db_constraint", True
        ):
            # InnoDB names the index of a foreign key after its constraint.
            name = str(
                editor._fk_constraint_name(
                    model, field, "_fk_%(to_table)s_%(to_column)s"
                )
            ).strip("`")
            return ModelIndex(name=name, source=source, columns=(IndexColumn(field),))
    else:
        source = f"{field.name} db_index=True"
    return ModelIndex(
        name=editor._create_index_name(table, [field.column]),
        source=source,
        columns=(IndexColumn(field),),
    )


def _from_unique_constraint(
    model: type[Model], constraint: UniqueConstraint, connection: BaseDatabaseWrapper
) -> ModelIndex | None:
    features = connection.features
    if constraint.condition is not None and not features.supports_partial_indexes:
        return None
    if constraint.expressions and not features.supports_expression_indexes:
        return None
    source = f"UniqueConstraint {constraint.name}"
    if constraint.expressions:
        return ModelIndex(
            name=constraint.name,
            source=source,
            columns=(),
            unique=True,
            expression=True,
        )
    opts = model._meta
    opclasses: list[str | None] = list(getattr(constraint, "opclasses", ())) or [
        None
    ] * len(constraint.fields)
    return ModelIndex(
        name=constraint.name,
        source=source,
        columns=tuple(
            IndexColumn(opts.get_field(name), opclass=_opclass(opclass, connection))  # type: ignore[arg-type]
            for name, opclass in zip(constraint.fields, opclasses, strict=True)
        ),
        unique=True,
        condition=constraint.condition,
    )


def _from_meta_index(
    model: type[Model], index: Index, connection: BaseDatabaseWrapper
) -> ModelIndex | None:
    features = connection.features
    if index.contains_expressions and not features.supports_expression_indexes:
        return None
    name = index.name
    source = "Meta.indexes"
    condition = index.condition
    if condition is not None and not features.supports_partial_indexes:
        # Django builds it without its WHERE clause there: a full index.
        source = "Meta.indexes, built without its condition here"
        condition = None
    if index.contains_expressions:
        return ModelIndex(name=name, source=source, columns=(), expression=True)
    opts = model._meta
    opclasses: list[str | None] = list(index.opclasses) or [None] * len(
        index.fields_orders
    )
    ordering_supported = features.supports_index_column_ordering
    return ModelIndex(
        name=name,
        source=source,
        columns=tuple(
            IndexColumn(
                opts.get_field(field_name),  # type: ignore[arg-type]
                descending=order == "DESC" and ordering_supported,
                opclass=_opclass(opclass, connection),
            )
            for (field_name, order), opclass in zip(
                index.fields_orders, opclasses, strict=True
            )
        ),
        condition=condition,
    )


def _opclass(opclass: str | None, connection: BaseDatabaseWrapper) -> str | None:
    # Only PostgreSQL builds operator classes; elsewhere Django ignores them.
    return opclass if connection.vendor == "postgresql" else None


def _extended_by_pk(
    index: ModelIndex, pk: Field[Any, Any], appended: str
) -> ModelIndex:
    if index.expression or any(column.field == pk for column in index.columns):
        return index
    return ModelIndex(
        name=index.name,
        source=f"{index.source}, with {appended}",
        columns=(*index.columns, IndexColumn(pk)),
        unique=index.unique,
        condition=index.condition,
        pk_appended=True,
    )
