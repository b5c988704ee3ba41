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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression
from django.db.models.expressions import SQLiteNumericMixin
from django.db.models.sql import Query

from rangeqs._keyset import RowAfter
from rangeqs._keyset import after as after_condition

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Q, QuerySet
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from rangeqs._keys import Key

__all__ = [
    "PreparedPage",
    "PreparedPages",
    "Slot",
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


class PreparedPage:
    """``queryset`` compiled once; :meth:`rows` runs it with the slots' values.

    ``fields[i]`` converts the value of ``Slot(i)`` for the database, as a
    filter on that field would.
    """

    def __init__(
        self, queryset: QuerySet[Any, Any], fields: Sequence[Field[Any, Any]]
    ) -> None:
        self.queryset = queryset
        self.fields = tuple(fields)
        self._compiled: _Compiled | None = None

    def rows(self, values: Sequence[Any]) -> list[Any]:
        """The queryset's rows with ``values`` bound to the slots."""
        compiled = self._compile()
        connection = compiled.connection
        converted = [
            field.get_db_prep_value(value, connection)
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
        page = self.queryset.all()
        query = cast("_CompiledQuery", page.query.chain(_CompiledQuery))
        query.rangeqs_compiler = compiler
        page.query = query
        # Setting a values() query resets the iterable to dicts.
        page._iterable_class = self.queryset._iterable_class
        return list(page)

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


class PreparedPages:
    """The pages after a position of one plan's queryset in key order.

    Each is compiled once per page size and NULL pattern of the position (the
    parts of a position that shape the SQL) and then rebound, so a plan asks
    for rows and never compiles a page twice.
    """

    def __init__(self, queryset: QuerySet[Any, Any], keys: Sequence[Key]) -> None:
        self.queryset = queryset
        self.keys = tuple(keys)
        self._pages: dict[tuple[int, tuple[bool, ...]], PreparedPage] = {}

    def rows(
        self,
        after: Sequence[Any],
        size: int,
        *,
        bound: Callable[[Sequence[Slot | None]], Q] | None = None,
    ) -> list[Any]:
        """At most ``size`` rows strictly after ``after``; ``bound`` adds a
        condition built from the position's slots, ahead of the "after" one."""
        shape = (size, null_pattern(after))
        page = self._pages.get(shape)
        if page is None:
            connection = connections[self.queryset.db]
            slots = slots_for(self.keys, after)
            conditions: list[Q | Expression] = [
                slotted_after(self.keys, slots, connection)
            ]
            if bound is not None:
                conditions.insert(0, bound(slots))
            ordered = self.queryset.filter(*conditions).order_by(
                *(key.ordering for key in self.keys)
            )
            page = PreparedPage(ordered[:size], [key.field for key in self.keys])
            self._pages[shape] = page
        return page.rows(after)
