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

import contextlib
import contextvars
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression, prefetch_related_objects
from django.db.models.expressions import SQLiteNumericMixin

from rangeqs import _django
from rangeqs._django import KeyColumns, Placeholder
from rangeqs._keyset import RowAfter
from rangeqs._keyset import after as after_condition
from rangeqs._stored import bind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Q, QuerySet
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from rangeqs._keys import Key
    from rangeqs._plans.bounded import PageGuard

__all__ = [
    "FetchedRows",
    "KeyColumns",
    "MadeRows",
    "PreparedPage",
    "PreparedPages",
    "Slot",
    "joined",
    "null_pattern",
    "slots_for",
    "slotted_after",
]


# The slots' bound parameters while a fallback page (an ordinary queryset
# evaluation) compiles; unset, a slot compiles to a Placeholder.
_bound_values: contextvars.ContextVar[Sequence[Any] | None] = contextvars.ContextVar(
    "rangeqs_bound_values", default=None
)


@contextlib.contextmanager
def bound_slots(values: Sequence[Any]) -> Iterator[None]:
    """Inside it, ``Slot(i)`` compiles to the parameter ``values[i]``."""
    token = _bound_values.set(values)
    try:
        yield
    finally:
        _bound_values.reset(token)


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
        bound = _bound_values.get()
        placeholder: Any = (
            Placeholder(self.index) if bound is None else bound[self.index]
        )
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


class PreparedPage:
    """``queryset`` compiled once; :meth:`rows` runs it with the slots' values.

    ``fields[i]`` converts the value of ``Slot(i)`` for the database, as a
    filter on that field would. ``guard`` keeps the statement to the index
    that serves it (see :mod:`rangeqs._plans.bounded`). ``compiled=False``
    (the fallback, :mod:`rangeqs._django`): each page is the queryset
    evaluated as any queryset is, the slots bound to the values.
    """

    def __init__(
        self,
        queryset: QuerySet[Any, Any],
        fields: Sequence[Field[Any, Any]],
        *,
        guard: PageGuard | None = None,
        compiled: bool = True,
    ) -> None:
        self.queryset = queryset
        self.fields = tuple(fields)
        self.guard = guard
        self.compiled = compiled
        self._compiled: _Compiled | None = None

    def rows(self, values: Sequence[Any]) -> Sequence[Any]:
        """The queryset's rows with ``values`` bound to the slots."""
        if not self.compiled:
            return self.evaluated(values)
        compiled = self._compile()
        connection = compiled.connection
        converted = self.converted(values, connection)
        params = tuple(
            converted[param.index] if isinstance(param, Placeholder) else param
            for param in compiled.params
        )
        sql = compiled.sql
        if self.guard is None or sql is None:
            compiler, raw_rows = _django.fetch_compiled(compiled.compiler, sql, params)
        else:
            with self.guard.statement(connection) as in_front:
                compiler, raw_rows = _django.fetch_compiled(
                    compiled.compiler, in_front + sql, params
                )
        return FetchedRows(self.queryset, compiler, raw_rows, compiled)

    def converted(
        self, values: Sequence[Any], connection: BaseDatabaseWrapper
    ) -> list[Any]:
        """The slots' parameters for the position ``values``."""
        return [
            bind(field, value, connection)
            for field, value in zip(self.fields, values, strict=True)
        ]

    def evaluated(self, values: Sequence[Any]) -> Sequence[Any]:
        """The fallback: the queryset evaluated with the slots bound."""
        connection = connections[self.queryset.db]
        return evaluate(
            self.queryset,
            self.converted(values, connection),
            guard=self.guard,
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
                compiler = _django.empty_compiler(self.queryset, connection)
                compiled = _Compiled(connection, compiler, None, ())
            else:
                if self.guard is not None:
                    sql = self.guard.hinted(sql, connection)
                sql, params = _django.constants_written_in(
                    sql,
                    params,
                    connection,
                    keep=lambda param: isinstance(param, Placeholder),
                )
                compiled = _Compiled(connection, compiler, sql, params)
            self._compiled = compiled
        return compiled

    def compile_sql(
        self, connection: BaseDatabaseWrapper
    ) -> tuple[SQLCompiler, str, tuple[Any, ...]]:
        """The compiler whose rows the page parses, and the page's SQL."""
        return _django.compile_statement(self.queryset, connection)


def evaluate(
    queryset: QuerySet[Any, Any],
    params: Sequence[Any],
    *,
    guard: PageGuard | None = None,
) -> MadeRows:
    """``queryset``'s rows as any evaluation makes them, ``Slot(i)`` bound to
    ``params[i]`` (public API only: the fallback of :mod:`rangeqs._django`).

    The guard's planner settings surround the evaluation and its hint goes
    on the statement through ``connection.execute_wrapper`` (after Django's
    query log has recorded it); ``prefetch_related()`` runs when the rows
    are first iterated, as for :class:`FetchedRows`.
    """
    lookups = _django.prefetch_lookups(queryset)
    page = queryset.prefetch_related(None) if lookups else queryset.all()
    with bound_slots(params):
        if guard is None:
            rows = list(page)
        else:
            # Prefetching waits for the iteration: the page's statement is
            # the only one in here.
            connection = connections[queryset.db]
            try:
                # Compiling the query (the documented str(queryset.query))
                # refuses select_for_update() outside a transaction, as a
                # compiled page does, before the guard opens one for the
                # page; and it finds a page that matches nothing.
                str(page.query)
            except EmptyResultSet:
                # Django runs no statement for it: no settings either.
                return MadeRows([], lookups)
            with guard.statement(connection) as in_front:
                hint = _HintFirstStatement(guard, connection, in_front)
                with connection.execute_wrapper(hint):
                    rows = list(page)
    return MadeRows(rows, lookups)


class _HintFirstStatement:
    """An execute wrapper that gives the first statement the guard's hint,
    and what the guard puts in front of it."""

    def __init__(
        self, guard: PageGuard, connection: BaseDatabaseWrapper, in_front: str = ""
    ) -> None:
        self.guard = guard
        self.connection = connection
        self.in_front = in_front
        self.done = False

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: Any,
    ) -> Any:
        if self.done:
            return execute(sql, params, many, context)
        self.done = True
        hinted = self.guard.hinted(sql, self.connection)
        return execute(self.in_front + hinted, params, many, context)


class MadeRows(Sequence[Any]):
    """A fallback page: rows made by the queryset's evaluation, prefetched
    the first time they are iterated."""

    def __init__(self, rows: list[Any], lookups: Sequence[Any] = ()) -> None:
        self._rows = rows
        self._lookups = tuple(lookups)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Any]:
        if self._lookups and self._rows:
            prefetch_related_objects(self._rows, *self._lookups)
            self._lookups = ()
        return iter(self._rows)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self._rows[index]

    def extended(self, other: MadeRows) -> MadeRows:
        return MadeRows(self._rows + other._rows, self._lookups or other._lookups)


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
        lookups = _django.prefetch_lookups(self._queryset)
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
        return _django.make_rows(self._queryset, self._compiler, chunks)


def joined(first: Sequence[Any], second: Sequence[Any]) -> Sequence[Any]:
    """The rows of two statements of one queryset shape, one after the other."""
    if not second:
        return first
    if not first:
        return second
    if isinstance(first, FetchedRows) and isinstance(second, FetchedRows):
        return first.extended(second)
    if isinstance(first, MadeRows) and isinstance(second, MadeRows):
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
        compiled: bool = True,
    ) -> None:
        self.queryset = queryset
        self.keys = tuple(keys)
        self.guard = guard
        self.compiled = compiled
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
            page = PreparedPage(
                ordered[:size], fields, guard=self.guard, compiled=self.compiled
            )
            self._pages[shape] = page
        return page.rows(() if after is None else after)
