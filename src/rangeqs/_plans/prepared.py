"""Page statements compiled once and run again with new position values.

Django compiles a queryset to SQL on every evaluation, and the page
querysets of a plan differ only in the position. For pages of 100 rows,
building the filter and compiling it cost more than the database spends on
the page (measured on PostgreSQL 15: about a third of a partition pass).

A :class:`PreparedPage` compiles its queryset once, with :class:`Slot`
expressions where the position goes, and then runs the same SQL text with
the slots' bind parameters replaced: the values stay parameters, the text
never changes. The rows come out through the queryset's own iterable, so
they have the shape the caller asked for.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast, overload

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression, prefetch_related_objects
from django.db.models.expressions import Col, SQLiteNumericMixin
from django.db.models.sql import Query
from django.db.models.sql.constants import MULTI

from rangeqs._keyset import RowAfter
from rangeqs._keyset import after as after_condition
from rangeqs._stored import bind, position_value

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Q, QuerySet
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from rangeqs._keys import Key
    from rangeqs._plans.bounded import PageGuard

__all__ = [
    "FetchedRows",
    "PreparedPage",
    "PreparedPages",
    "Slot",
    "joined",
    "null_pattern",
    "slots_for",
    "slotted_after",
]


@dataclass(frozen=True)
class _Placeholder:
    """Stands in the compiled parameters for the value of slot ``index``."""

    index: int


class Slot(SQLiteNumericMixin, Expression):
    """The bind parameter that carries position value number ``index``.

    Compiled as ``Value(value, output_field=...)`` would be for a non-NULL
    value: decimals cast on SQLite, the field's own placeholder (binary
    strings on MariaDB).
    """

    def __init__(self, index: int, output_field: Field[Any, Any]) -> None:
        super().__init__(output_field=output_field)
        self.index = index

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        template: str | None = None,
        **extra_context: Any,
    ) -> _AsSqlType:
        placeholder = _Placeholder(self.index)
        params: tuple[Any, ...] = (placeholder,)
        field = self.output_field
        if hasattr(field, "get_placeholder"):
            return field.get_placeholder(placeholder, compiler, connection), params
        return "%s", params


def slots_for(keys: Sequence[Key], position: Sequence[Any]) -> list[Slot | None]:
    """A :class:`Slot` for each non-NULL value of ``position`` (None for NULLs).

    Which keys are NULL shapes the "after" condition, so a prepared page is
    made per NULL pattern; the values themselves are bound at each page.
    """
    return [
        None if value is None else Slot(index, key.field)
        for index, (key, value) in enumerate(zip(keys, position, strict=True))
    ]


def slotted_after(
    keys: Sequence[Key],
    slots: Sequence[Slot | None],
    connection: BaseDatabaseWrapper,
) -> Q | Expression:
    """``rangeqs._keyset.after`` with ``slots`` in the place of the values."""
    condition = after_condition(keys, slots, connection)
    if isinstance(condition, RowAfter):
        # It wraps each value in Value(); the slots are expressions already.
        condition.set_source_expressions([*condition.columns, *slots])
    return condition


def null_pattern(position: Sequence[Any]) -> tuple[bool, ...]:
    """Which values of ``position`` are NULL: the part of it that shapes SQL."""
    return tuple(value is None for value in position)


class _CompiledQuery(Query):
    """A query that hands out a compiler with its SQL already made."""

    rangeqs_compiler: SQLCompiler

    def get_compiler(
        self,
        using: str | None = None,
        connection: BaseDatabaseWrapper | None = None,
        elide_empty: bool = True,
    ) -> SQLCompiler:
        return self.rangeqs_compiler


@dataclass
class _Compiled:
    connection: BaseDatabaseWrapper
    compiler: SQLCompiler
    # None when the filters match nothing (Django's EmptyResultSet).
    sql: str | None
    params: tuple[Any, ...]
    # By key attnames (and the aliases of their stored columns): where the
    # statement selects them (None: not all).
    key_columns: dict[
        tuple[tuple[str, ...], tuple[str | None, ...]], KeyColumns | None
    ] = field(default_factory=dict)

    def find_key_columns(
        self, attnames: tuple[str, ...], stored_aliases: tuple[str | None, ...] = ()
    ) -> KeyColumns | None:
        shape = (attnames, stored_aliases)
        if shape not in self.key_columns:
            self.key_columns[shape] = KeyColumns.find(
                self.compiler, attnames, stored_aliases
            )
        return self.key_columns[shape]


@dataclass(frozen=True)
class KeyColumns:
    """Where a compiled statement selects each key, and the converters that
    turn the raw value into the field's value (as the row's own would).

    A key's position value is the converted value where it binds back to
    what the database stored, else the stored value (rangeqs._stored); a key
    whose stored value sqlite3 parses is also selected as a stored column.
    """

    positions: tuple[int, ...]
    stored_positions: tuple[int | None, ...]
    converters: tuple[tuple[list[Any], Any], ...]
    fields: tuple[Field[Any, Any], ...]
    connection: BaseDatabaseWrapper

    @classmethod
    def find(
        cls,
        compiler: SQLCompiler,
        attnames: Sequence[str],
        stored_aliases: Sequence[str | None] = (),
    ) -> KeyColumns | None:
        """None when a key is not a column of the base table in the select list."""
        if not compiler.select:
            compiler.setup_query()
        base = compiler.query.get_initial_alias()
        positions = []
        for attname in attnames:
            position = next(
                (
                    index
                    for index, (expression, _, _) in enumerate(compiler.select)
                    if isinstance(expression, Col)
                    and expression.alias == base
                    and expression.target.attname == attname
                ),
                None,
            )
            if position is None:
                return None
            positions.append(position)
        stored_positions: list[int | None] = []
        for alias in stored_aliases or [None] * len(positions):
            stored = None
            if alias is not None:
                stored = next(
                    (
                        index
                        for index, (_, _, select_alias) in enumerate(compiler.select)
                        if select_alias == alias
                    ),
                    None,
                )
                if stored is None:
                    return None
            stored_positions.append(stored)
        converters = tuple(
            compiler.get_converters([compiler.select[position][0]]).get(
                0, ([], compiler.select[position][0])
            )
            for position in positions
        )
        fields = tuple(compiler.select[position][0].target for position in positions)
        return cls(
            tuple(positions),
            tuple(stored_positions),
            converters,
            fields,
            compiler.connection,
        )

    def read(self, raw_row: Sequence[Any]) -> tuple[Any, ...]:
        values = []
        for position, stored, (converters, expression), key_field in zip(
            self.positions,
            self.stored_positions,
            self.converters,
            self.fields,
            strict=True,
        ):
            raw = raw_row[position]
            value = raw
            for converter in converters:
                value = converter(value, expression, self.connection)
            if stored is not None:
                raw = raw_row[stored]
            values.append(position_value(key_field, value, raw, self.connection))
        return tuple(values)


class PreparedPage:
    """``queryset`` compiled once; :meth:`rows` runs it with the slots' values.

    ``fields[i]`` converts the value of ``Slot(i)`` for the database, as a
    filter on that field would. ``guard`` keeps the statement to the index
    that serves it (see :mod:`rangeqs._plans.bounded`).
    """

    def __init__(
        self,
        queryset: QuerySet[Any, Any],
        fields: Sequence[Field[Any, Any]],
        *,
        guard: PageGuard | None = None,
    ) -> None:
        self.queryset = queryset
        self.fields = tuple(fields)
        self.guard = guard
        self._compiled: _Compiled | None = None

    def rows(self, values: Sequence[Any]) -> Sequence[Any]:
        """The queryset's rows with ``values`` bound to the slots."""
        compiled = self._compile()
        connection = compiled.connection
        converted = [
            bind(field, value, connection)
            for field, value in zip(self.fields, values, strict=True)
        ]
        params = tuple(
            converted[param.index] if isinstance(param, _Placeholder) else param
            for param in compiled.params
        )
        sql = compiled.sql
        compiler = copy.copy(compiled.compiler)

        def as_sql(*args: Any, **kwargs: Any) -> _AsSqlType:
            if sql is None:
                raise EmptyResultSet
            return sql, params

        compiler.as_sql = as_sql  # type: ignore[method-assign]
        if self.guard is None or sql is None:
            chunks = compiler.execute_sql(MULTI, chunked_fetch=False) or []
        else:
            with self.guard.statement(connection):
                chunks = compiler.execute_sql(MULTI, chunked_fetch=False) or []
        return FetchedRows(
            self.queryset,
            compiler,
            list(itertools.chain.from_iterable(chunks)),
            compiled,
        )

    def _compile(self) -> _Compiled:
        # A connection belongs to one thread: async iteration fetches pages
        # in another thread than the one that built the plan.
        connection = connections[self.queryset.db]
        compiled = self._compiled
        if compiled is None or compiled.connection is not connection:
            try:
                compiler, sql, params = self.compile_sql(connection)
            except EmptyResultSet:
                compiler = self.queryset.query.get_compiler(connection=connection)
                compiled = _Compiled(connection, compiler, None, ())
            else:
                if self.guard is not None:
                    sql = self.guard.hinted(sql, connection)
                compiled = _Compiled(connection, compiler, sql, params)
            self._compiled = compiled
        return compiled

    def compile_sql(
        self, connection: BaseDatabaseWrapper
    ) -> tuple[SQLCompiler, str, tuple[Any, ...]]:
        """The compiler whose rows the page parses, and the page's SQL."""
        compiler = self.queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        return compiler, sql, tuple(params)


def _with_compiler(
    queryset: QuerySet[Any, Any], compiler: SQLCompiler
) -> QuerySet[Any, Any]:
    """A copy of ``queryset`` that runs through ``compiler``."""
    page = queryset.all()
    query = cast("_CompiledQuery", page.query.chain(_CompiledQuery))
    query.rangeqs_compiler = compiler
    page.query = query
    # Setting a values() query resets the iterable to dicts.
    page._iterable_class = queryset._iterable_class
    return page


class FetchedRows(Sequence[Any]):
    """A page as the database returned it, made into the caller's rows on demand.

    The statement has run; only the conversion waits. Django's own iterable
    makes each row as it is reached, as ``QuerySet.iterator()`` does: a row
    the caller is done with is freed before the next is made, where a list of
    a page's model instances lives through several garbage collections and
    is traced by each (a tenth of a dense step-1000 pass on PostgreSQL 15).
    """

    def __init__(
        self,
        queryset: QuerySet[Any, Any],
        compiler: SQLCompiler,
        raw_rows: list[Any],
        compiled: _Compiled,
    ) -> None:
        self._queryset = queryset
        self._compiler = compiler
        self._raw_rows = raw_rows
        self._compiled = compiled

    def extended(self, other: FetchedRows) -> FetchedRows:
        """These rows, then ``other``'s: a statement of the same queryset with
        other conditions selects the same columns, so one compiler makes both."""
        return FetchedRows(
            self._queryset,
            self._compiler,
            self._raw_rows + other._raw_rows,
            self._compiled,
        )

    def key_reader(
        self, attnames: tuple[str, ...], stored_aliases: tuple[str | None, ...] = ()
    ) -> Callable[[int], tuple[Any, ...]] | None:
        """Reads the keys of the row at an index from what the database
        returned, without making the row; None when not all are selected."""
        columns = self._compiled.find_key_columns(attnames, stored_aliases)
        if columns is None:
            return None
        raw_rows = self._raw_rows
        return lambda index: columns.read(raw_rows[index])

    def __len__(self) -> int:
        return len(self._raw_rows)

    def __iter__(self) -> Iterator[Any]:
        if not self._raw_rows:
            # An empty result may come from a statement never compiled.
            return iter(())
        lookups = self._queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        if not lookups:
            return self._made([self._raw_rows])
        # Prefetching fills a whole page's instances with a query per lookup.
        rows = list(self._made([self._raw_rows]))
        prefetch_related_objects(rows, *lookups)
        return iter(rows)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        """A row made afresh from what the database returned: the caller
        never holds it, so it has the values as fetched."""
        if isinstance(index, slice):
            return list(self._made([self._raw_rows[index]]))
        return next(self._made([[self._raw_rows[index]]]))

    def _made(self, chunks: list[list[Any]]) -> Iterator[Any]:
        compiler = copy.copy(self._compiler)

        def execute_sql(*args: Any, **kwargs: Any) -> list[list[Any]]:
            return chunks

        compiler.execute_sql = execute_sql  # type: ignore[method-assign,assignment]
        page = _with_compiler(self._queryset, compiler)
        rows: Iterable[Any] = page._iterable_class(page)  # type: ignore[assignment]
        return iter(rows)


def joined(first: Sequence[Any], second: Sequence[Any]) -> Sequence[Any]:
    """The rows of two statements of one queryset shape, one after the other."""
    if not second:
        return first
    if not first:
        return second
    if isinstance(first, FetchedRows) and isinstance(second, FetchedRows):
        return first.extended(second)
    return [*first, *second]


class PreparedPages:
    """The pages after a position of one plan's queryset in key order.

    Each is compiled once per page size and NULL pattern of the position (the
    parts of a position that shape the SQL) and then rebound, so a plan asks
    for rows and never compiles a page twice.
    """

    def __init__(
        self,
        queryset: QuerySet[Any, Any],
        keys: Sequence[Key],
        *,
        guard: PageGuard | None = None,
    ) -> None:
        self.queryset = queryset
        self.keys = tuple(keys)
        self.guard = guard
        self._pages: dict[tuple[int, tuple[bool, ...] | None], PreparedPage] = {}

    def rows(
        self,
        after: Sequence[Any] | None,
        size: int,
        *,
        bound: Callable[[Sequence[Slot | None]], Q] | None = None,
        make_conditions: Callable[[Sequence[Slot | None]], list[Q | Expression]]
        | None = None,
    ) -> Sequence[Any]:
        """At most ``size`` rows strictly after ``after`` (None: from the
        start); ``bound`` adds a condition built from the position's slots,
        ahead of the "after" one; ``make_conditions`` replaces both."""
        shape = (size, None if after is None else null_pattern(after))
        page = self._pages.get(shape)
        if page is None:
            conditions: list[Q | Expression] = []
            fields: list[Field[Any, Any]] = []
            if after is not None:
                connection = connections[self.queryset.db]
                slots = slots_for(self.keys, after)
                if make_conditions is not None:
                    conditions = make_conditions(slots)
                else:
                    conditions.append(slotted_after(self.keys, slots, connection))
                    if bound is not None:
                        conditions.insert(0, bound(slots))
                fields = [key.field for key in self.keys]
            ordered = self.queryset.filter(*conditions).order_by(
                *(key.ordering for key in self.keys)
            )
            page = PreparedPage(ordered[:size], fields, guard=self.guard)
            self._pages[shape] = page
        return page.rows(() if after is None else after)
