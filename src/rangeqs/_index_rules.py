"""Which declared index serves a keyset order under a queryset's conditions.

The rules both the plan chooser (``rangeqs._plans.select``) and the index
advisor (``rangeqs.advisor``, which adds names, sentences and
recommendations on top) apply. Pure: the indexes come from the model's
declarations and a few facts about the database (:class:`IndexFacts`, read
once from the connection by the caller), never from a query or a schema
editor, and the verdicts are data, never sentences.

An index serves when its columns are, in order: columns fixed by equality
(``= v``; ``IS NULL`` except on PostgreSQL), then the keyset columns, all in
the index's directions or all reversed (a backward scan). Anything else on a
column before the keyset columns (an IN list, a range, no filter at all)
makes the database return rows in that column's order first, so it sorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import ForeignKey, Index, QuerySet, UniqueConstraint

from rangeqs._where import where_conditions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Model, Q

    from rangeqs._keys import Key
    from rangeqs._where import Condition

__all__ = [
    "IndexColumn",
    "IndexFacts",
    "IndexFit",
    "ModelIndex",
    "Verdict",
    "declared_indexes",
    "fit_index",
    "judge",
    "pins_order",
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
    found: list[ModelIndex] = [
        ModelIndex(
            name=_pk_name(table, vendor),
            source="primary key",
            columns=(IndexColumn(pk),),
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
    for meta_index in opts.indexes:
        index = _from_meta_index(model, meta_index, facts)
        if index is not None:
            found.append(index)
    appended = _appended_pk(vendor, pk_is_rowid=pk_is_rowid)
    if appended:
        found = [_extended_by_pk(index, pk, appended) for index in found]
    return tuple(found)


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
    index: ModelIndex, pk: Field[Any, Any], appended: str
) -> ModelIndex:
    if index.expression or any(column.field == pk for column in index.columns):
        return index
    return replace(
        index,
        source=f"{index.source}, with {appended}",
        columns=(*index.columns, IndexColumn(pk)),
        pk_appended=True,
    )


#: What one index does for a filter shape and a keyset order:
#: ``serves`` (the rows come in key order), ``expression`` (it indexes an
#: expression), ``partial_not_implied`` (the filters do not imply its
#: condition), ``opclass`` (a column's operator class does not follow ORDER
#: BY), ``mixed_directions``, ``column_before_keys`` (a column not fixed by
#: equality comes before the next key), ``ends_before_keys``.
FitFinding = Literal[
    "serves",
    "expression",
    "partial_not_implied",
    "opclass",
    "mixed_directions",
    "column_before_keys",
    "ends_before_keys",
]


@dataclass(frozen=True)
class IndexFit:
    """How one index fits a filter shape and a keyset order."""

    index: ModelIndex
    usable: bool
    #: Rows come out of the index in keyset order: no sort.
    ordered: bool
    #: Filter columns that narrow the scan (fixed prefix, a leading IN or
    #: range, the condition of a partial index).
    bounded_by: tuple[str, ...]
    #: The condition on a column before the keyset columns that breaks the order.
    breaker: Condition | None
    finding: FitFinding
    #: Index columns (attnames) the scan reads, for telling residual filters.
    columns: tuple[str, ...] = ()
    #: The index column the finding is about (``opclass``, ``column_before_keys``).
    column: IndexColumn | None = None
    #: The keys the index does not give in order, from the first one it misses.
    open_keys: tuple[Key, ...] = ()
    #: ``serves`` by a backward scan.
    reversed_scan: bool = False
    #: ``serves`` with these columns fixed by equality before the keys.
    fixed: tuple[str, ...] = ()

    @property
    def served(self) -> bool:
        return self.usable and self.ordered


def pins_order(condition: Condition, vendor: str) -> bool:
    """The condition fixes its column, so the next index column stays in order.

    PostgreSQL takes ``col = v`` as fixing ``col`` but not ``col IS NULL``:
    with ``IS NULL`` on the leading column it sorts (measured on 15 and 18).
    """
    if vendor == "postgresql" and condition.kind == "isnull":
        return False
    return condition.fixes_value


def fit_index(
    model: type[Model],
    index: ModelIndex,
    conditions: Sequence[Condition],
    keys: Sequence[Key],
    *,
    vendor: str,
) -> IndexFit:
    """Fit ``index`` to the bounding ``conditions`` and keyset ``keys``."""
    if index.expression:
        return _unusable(index, "expression")
    implied = _implied_condition_columns(model, index, conditions)
    if implied is None:
        return _unusable(index, "partial_not_implied")
    fixed = {
        c.field.attname: c for c in conditions if c.field and pins_order(c, vendor)
    }
    bounds = {c.field.attname: c for c in conditions if c.can_bound_index and c.field}
    # Keys pinned by equality are constant: they cannot be out of order.
    open_keys = [key for key in keys if key.name not in fixed]

    prefix: list[str] = []
    matched = 0
    reversed_scan: bool | None = None
    columns = tuple(column.attname for column in index.columns)

    def unordered(
        finding: FitFinding,
        column: IndexColumn | None = None,
        breaker: Condition | None = None,
    ) -> IndexFit:
        return IndexFit(
            index=index,
            usable=True,
            ordered=False,
            bounded_by=(*prefix, *implied),
            breaker=breaker,
            finding=finding,
            columns=columns,
            column=column,
            open_keys=tuple(open_keys[matched:]),
        )

    for column in index.columns:
        if column.attname in fixed:
            if matched == 0:
                prefix.append(column.attname)
            continue
        if matched == len(open_keys):
            break
        key = open_keys[matched]
        if column.attname == key.name:
            if column.opclass:
                return unordered("opclass", column)
            backward = column.descending != key.descending
            if reversed_scan is not None and backward != reversed_scan:
                return unordered("mixed_directions", column)
            reversed_scan = backward
            matched += 1
            if matched == 1 and not prefix and key.name in bounds:
                prefix.append(key.name)
            continue
        breaker = bounds.get(column.attname)
        if breaker is not None and matched == 0:
            prefix.append(column.attname)
        return unordered("column_before_keys", column, breaker)

    if matched < len(open_keys) and not _unique_ends_keys(index, fixed):
        return unordered("ends_before_keys")
    return IndexFit(
        index=index,
        usable=True,
        ordered=True,
        bounded_by=(*prefix, *implied),
        breaker=None,
        finding="serves",
        columns=columns,
        reversed_scan=bool(reversed_scan),
        fixed=tuple(c for c in prefix if c in fixed),
    )


def _unusable(index: ModelIndex, finding: FitFinding) -> IndexFit:
    return IndexFit(
        index=index,
        usable=False,
        ordered=False,
        bounded_by=(),
        breaker=None,
        finding=finding,
    )


def _unique_ends_keys(index: ModelIndex, fixed: dict[str, Condition]) -> bool:
    """A unique index over non-null columns already orders every later key."""
    return index.unique and all(
        column.attname in fixed or not column.field.null for column in index.columns
    )


def _implied_condition_columns(
    model: type[Model], index: ModelIndex, conditions: Sequence[Condition]
) -> tuple[str, ...] | None:
    """The columns of a partial index's condition, or None when the filters do
    not imply it. Implied means: every AND-ed term of the condition is also a
    bounding filter with the same lookup and values."""
    if index.condition is None:
        return ()
    # A plain queryset of the model: a default manager's own filters are no
    # part of the index's condition.
    wanted = where_conditions(QuerySet(model=model).filter(index.condition))
    have = {_signature(c) for c in conditions if c.can_bound_index}
    if not all(c.can_bound_index and _signature(c) in have for c in wanted):
        return None
    return tuple(c.field.attname for c in wanted if c.field is not None)


def _signature(condition: Condition) -> tuple[str | None, ...]:
    return (condition.column, condition.lookup_name, repr(condition.values))


@dataclass(frozen=True)
class Verdict:
    """Whether one index serves a keyset walk under a queryset's conditions."""

    #: Every condition of the queryset, bounding or not.
    conditions: tuple[Condition, ...]
    fits: tuple[IndexFit, ...]
    #: The serving index that the filters narrow most, else the best partial one.
    best: IndexFit | None
    #: One index gives the rows in keyset order, bounded by the filters.
    served: bool
    #: Every page sorts the remaining matching rows.
    needs_sort: bool
    #: No index narrows the scan by the filters.
    full_scan: bool

    def warning_key(self, model: type[Model], keys: Sequence[Key]) -> tuple[Any, ...]:
        """What makes two unserved walks the same advice: the model, the
        order, the index and what it lacks, never the values filtered on."""
        best = self.best
        finding: tuple[Any, ...] = ("sort" if self.needs_sort else "scan",)
        if best is not None:
            column = None if best.column is None else best.column.attname
            breaker = None if best.breaker is None else best.breaker.kind
            finding = (*finding, best.finding, column, breaker, bool(best.bounded_by))
        return (
            model._meta.label,
            tuple(key.ordering for key in keys),
            None if best is None else best.index.identity,
            finding,
        )


def judge(
    model: type[Model],
    conditions: Sequence[Condition],
    keys: Sequence[Key],
    indexes: Sequence[ModelIndex],
    *,
    vendor: str,
) -> Verdict:
    """Fit every index to the conditions and keys; pick the best."""
    bounding = [c for c in conditions if c.can_bound_index]
    fits = tuple(
        fit_index(model, index, bounding, keys, vendor=vendor) for index in indexes
    )
    best = _best_fit(fits, keys, filtered=bool(conditions))
    return Verdict(
        conditions=tuple(conditions),
        fits=fits,
        best=best,
        served=best is not None
        and best.served
        and (bool(best.bounded_by) or not conditions),
        needs_sort=best is None or not best.ordered,
        full_scan=best is None or (not best.bounded_by and bool(conditions)),
    )


def _best_fit(
    fits: Sequence[IndexFit], keys: Sequence[Key], *, filtered: bool
) -> IndexFit | None:
    """The serving index that the filters narrow most; else the index that
    narrows the scan most; else one that at least gives the order.

    Ties go to the index that holds the keyset columns (the one a fix, merge
    plan or new order, builds on), then to one that declares them rather than
    gets the pk appended by the database, then to the shorter one.
    """
    key_names = {key.name for key in keys}

    def rank(fit: IndexFit) -> tuple[int, int, bool, int]:
        held = len(key_names.intersection(fit.columns))
        return (len(fit.bounded_by), held, not fit.index.pk_appended, -len(fit.columns))

    served = [f for f in fits if f.served and (f.bounded_by or not filtered)]
    if served:
        return max(served, key=rank)
    narrowing = [f for f in fits if f.usable and f.bounded_by]
    if narrowing:
        return max(narrowing, key=rank)
    ordered = [f for f in fits if f.served]
    return ordered[0] if ordered else None
