"""The indexes a model's table has, from the model's declarations alone.

Sources: the primary key, ``unique=True``, ``db_index=True``, foreign keys,
``Meta.indexes``, ``unique_together`` and ``UniqueConstraint``, as Django's
schema editor builds them on a database described by :class:`IndexFacts`.
Pure: no query, no schema editor. Names that only the schema editor knows
are left for the advisor to fill (:attr:`ModelIndex.naming`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import (
    CompositePrimaryKey,
    Field,
    ForeignKey,
    Index,
    UniqueConstraint,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model, Q

__all__ = [
    "IndexColumn",
    "IndexFacts",
    "IndexNaming",
    "ModelIndex",
    "declared_indexes",
    "pk_is_rowid",
]


@dataclass(frozen=True)
class IndexFacts:
    """What the database does with declared indexes, read once per walk.

    On MariaDB two of these come from the server's version: read them when
    the database may be asked (the first page), never at construction.
    """

    vendor: str
    partial_indexes: bool
    expression_indexes: bool
    column_ordering: bool

    @classmethod
    def read(cls, connection: BaseDatabaseWrapper) -> IndexFacts:
        features = connection.features
        return cls(
            vendor=connection.vendor,
            partial_indexes=bool(features.supports_partial_indexes),
            expression_indexes=bool(features.supports_expression_indexes),
            column_ordering=bool(features.supports_index_column_ordering),
        )


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


#: How the schema editor names an index the model does not name: a plain
#: index, a ``unique_together`` group, or a MariaDB foreign key's index.
IndexNaming = Literal["index", "unique_together", "foreign_key"]


@dataclass(frozen=True)
class ModelIndex:
    #: The database's name; empty until the advisor names it (``naming``).
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
    #: Set when only the schema editor knows the name.
    naming: IndexNaming | None = field(default=None, compare=False)

    @property
    def identity(self) -> tuple[Any, ...]:
        """The index as declared, whatever the database calls it."""
        return (
            self.source,
            tuple((c.attname, c.descending) for c in self.columns),
            self.expression,
        )

    def describe(self) -> str:
        if self.expression:
            return f"{self.name} (an expression index, {self.source})"
        columns = ", ".join(
            f"{column.attname} DESC" if column.descending else column.attname
            for column in self.columns
        )
        return f"{self.name} ({columns}; {self.source})"


def declared_indexes(
    model: type[Model], facts: IndexFacts, *, pk_is_rowid: bool = False
) -> tuple[ModelIndex, ...]:
    """Every index the table of ``model`` has, from its declarations, pk first.

    Sources: the primary key, ``unique=True``, ``db_index=True``, foreign
    keys, ``Meta.indexes``, ``unique_together`` and ``UniqueConstraint``.
    Indexes that the database cannot build (partial indexes on MariaDB,
    expression indexes where unsupported) are left out, as Django's schema
    editor leaves them out. ``pk_is_rowid``: SQLite, an ``integer`` primary
    key (see :func:`pk_is_rowid`).
    """
    vendor = facts.vendor
    # A proxy model's table is its concrete model's, with its indexes.
    model = model._meta.concrete_model or model
    opts = model._meta
    table = opts.db_table
    pk = opts.pk
    assert pk is not None
    key_fields = _key_fields(pk)
    composite = len(key_fields) > 1
    found: list[ModelIndex] = [
        ModelIndex(
            name=_pk_name(table, vendor),
            source="primary key",
            columns=tuple(IndexColumn(key_field) for key_field in key_fields),
            unique=True,
        )
    ]
    unique_fields = 0
    for model_field in opts.local_concrete_fields:
        if model_field.primary_key:
            continue
        if model_field.unique:
            unique_fields += 1
            found.append(
                ModelIndex(
                    name=_unique_field_index_name(
                        table, model_field, unique_fields, vendor
                    ),
                    source=f"{model_field.name} unique=True",
                    columns=(IndexColumn(model_field),),
                    unique=True,
                )
            )
        elif getattr(model_field, "db_index", False):
            found.append(_single_field_index(model_field, vendor))
    for group in opts.unique_together:
        fields: list[Any] = [opts.get_field(name) for name in group]
        found.append(
            ModelIndex(
                name="",
                source="unique_together",
                columns=tuple(IndexColumn(f) for f in fields),
                unique=True,
                naming="unique_together",
            )
        )
    for constraint in opts.constraints:
        if isinstance(constraint, UniqueConstraint):
            index = _from_unique_constraint(model, constraint, facts)
            if index is None:
                continue
            if vendor == "sqlite" and index.condition is None:
                # Declared in CREATE TABLE: SQLite numbers it after the
                # unique columns and ignores the constraint's name.
                unique_fields += 1
                index = replace(index, name=f"sqlite_autoindex_{table}_{unique_fields}")
            found.append(index)
    if composite and vendor == "sqlite":
        # Django declares a composite key after the unique constraints in
        # CREATE TABLE, and SQLite numbers its index after theirs.
        found[0] = replace(
            found[0], name=f"sqlite_autoindex_{table}_{unique_fields + 1}"
        )
    for meta_index in opts.indexes:
        index = _from_meta_index(model, meta_index, facts)
        if index is not None:
            found.append(index)
    appended = _appended_pk(vendor, pk_is_rowid=pk_is_rowid)
    if appended:
        found = [_extended_by_pk(index, key_fields, appended) for index in found]
    return tuple(found)


def _key_fields(pk: Field[Any, Any]) -> tuple[Field[Any, Any], ...]:
    """The fields of the primary key: each field of a ``CompositePrimaryKey``
    (Django 5.2+), which has no column of its own."""
    if isinstance(pk, CompositePrimaryKey):
        # Every field of a composite key is a concrete column.
        return tuple(part for part in pk.fields if isinstance(part, Field))
    return (pk,)


def pk_is_rowid(model: type[Model], connection: BaseDatabaseWrapper) -> bool:
    """SQLite ends every index with the rowid, which an ``integer`` pk is."""
    pk = model._meta.pk
    assert pk is not None
    return connection.vendor == "sqlite" and pk.db_type(connection) == "integer"


def _appended_pk(vendor: str, *, pk_is_rowid: bool) -> str | None:
    """Who appends the primary key to every index, if anyone.

    MariaDB's InnoDB stores the primary key at the end of every secondary
    index and its optimizer (extended_keys, on by default) uses it. SQLite
    ends every index with the rowid, which an ``integer`` primary key is.
    Either way an index on (group_id) is one on (group_id, id) there.
    """
    if vendor == "mysql":
        return "the primary key InnoDB appends"
    if vendor == "sqlite" and pk_is_rowid:
        return "the rowid SQLite appends"
    return None


def _pk_name(table: str, vendor: str) -> str:
    if vendor == "postgresql":
        return f"{table}_pkey"
    if vendor == "mysql":
        return "PRIMARY"
    return "PRIMARY KEY"


def _unique_field_index_name(
    table: str, model_field: Field[Any, Any], position: int, vendor: str
) -> str:
    # Django declares unique=True inline in CREATE TABLE, so the database
    # names the index itself.
    if vendor == "postgresql":
        return f"{table}_{model_field.column}_key"
    if vendor == "mysql":
        return str(model_field.column)
    return f"sqlite_autoindex_{table}_{position}"


def _single_field_index(model_field: Field[Any, Any], vendor: str) -> ModelIndex:
    naming: IndexNaming = "index"
    if isinstance(model_field, ForeignKey):
        source = f"{model_field.name} foreign key"
        if vendor == "mysql" and getattr(model_field, "db_constraint", True):
            # InnoDB names the index of a foreign key after its constraint.
            naming = "foreign_key"
    else:
        source = f"{model_field.name} db_index=True"
    return ModelIndex(
        name="", source=source, columns=(IndexColumn(model_field),), naming=naming
    )


def _from_unique_constraint(
    model: type[Model], constraint: UniqueConstraint, facts: IndexFacts
) -> ModelIndex | None:
    if constraint.condition is not None and not facts.partial_indexes:
        return None
    if constraint.expressions and not facts.expression_indexes:
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
            IndexColumn(opts.get_field(name), opclass=_opclass(opclass, facts))  # type: ignore[arg-type]
            for name, opclass in zip(constraint.fields, opclasses, strict=True)
        ),
        unique=True,
        condition=constraint.condition,
    )


def _from_meta_index(
    model: type[Model], index: Index, facts: IndexFacts
) -> ModelIndex | None:
    if index.contains_expressions and not facts.expression_indexes:
        return None
    name = index.name
    source = "Meta.indexes"
    condition = index.condition
    if condition is not None and not facts.partial_indexes:
        # Django builds it without its WHERE clause there: a full index.
        source = "Meta.indexes, built without its condition here"
        condition = None
    if index.contains_expressions:
        return ModelIndex(name=name, source=source, columns=(), expression=True)
    opts = model._meta
    opclasses: list[str | None] = list(index.opclasses) or [None] * len(
        index.fields_orders
    )
    return ModelIndex(
        name=name,
        source=source,
        columns=tuple(
            IndexColumn(
                opts.get_field(field_name),  # type: ignore[arg-type]
                descending=order == "DESC" and facts.column_ordering,
                opclass=_opclass(opclass, facts),
            )
            for (field_name, order), opclass in zip(
                index.fields_orders, opclasses, strict=True
            )
        ),
        condition=condition,
    )


def _opclass(opclass: str | None, facts: IndexFacts) -> str | None:
    # Only PostgreSQL builds operator classes; elsewhere Django ignores them.
    return opclass if facts.vendor == "postgresql" else None


def _extended_by_pk(
    index: ModelIndex, key_fields: tuple[Field[Any, Any], ...], appended: str
) -> ModelIndex:
    indexed = {column.field for column in index.columns}
    missing = tuple(key_field for key_field in key_fields if key_field not in indexed)
    if index.expression or not missing:
        return index
    return replace(
        index,
        source=f"{index.source}, with {appended}",
        columns=(*index.columns, *(IndexColumn(key_field) for key_field in missing)),
        pk_appended=True,
    )
