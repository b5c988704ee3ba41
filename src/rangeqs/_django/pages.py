"""Django's private API for the pages of a walk.

Everything the page code needs from Django beyond the documented queryset,
expression and field API is here, behind small functions, so that a Django
release that changes one of them breaks one module, visibly, and a walk
falls back to ordinary querysets instead of paging wrongly. What the
analysis of a queryset's shape reads before any page is
:mod:`rangeqs._django.query`'s, with a contract and a fallback of its own.

Contract (checked against Django 5.2, 6.0 and 6.1, the versions in
pyproject.toml's classifiers):

Compiled pages (:func:`compiled_pages` true)
    - ``Query.get_compiler(connection=...)`` returns an ``SQLCompiler`` whose
      ``as_sql()`` returns ``(sql, params)`` and raises ``EmptyResultSet``
      when the filters match nothing.
    - ``SQLCompiler.execute_sql(MULTI, chunked_fetch=False)`` calls
      ``self.as_sql()`` for its statement and returns the rows as an
      iterable of chunks (lists of raw row tuples); replacing ``as_sql`` on
      a copy runs other SQL with the same result parsing.
    - ``SQLCompiler.select`` (after ``setup_query()``) lists ``(expression,
      sql, alias)`` in the order the columns are fetched; a base-table key is
      a ``Col`` whose ``alias`` is ``query.get_initial_alias()``;
      ``get_converters([expression])`` returns ``{0: (converters,
      expression)}`` and a converter is called ``(value, expression,
      connection)``.
    - The iterable classes (``queryset._iterable_class``) are called with
      one queryset and get their compiler from
      ``queryset.query.get_compiler()``, then call ``execute_sql``; a
      ``Query`` subclass made by ``query.chain(klass)`` keeps every other
      attribute, so overriding ``get_compiler`` hands them a compiler whose
      ``execute_sql`` returns rows already fetched.
    - ``queryset._prefetch_related_lookups``, ``query.high_mark`` and
      ``query.deferred_loading`` are what their names say.

Both paths (the driver)
    ``connection.Database`` is the driver module the PostgreSQL backend
    imported, and psycopg 3 binds parameters on the server only when
    ``OPTIONS["server_side_binding"]`` is True (:func:`binds_on_the_client`).

Compiled pages on PostgreSQL with client-side binding
    ``connection.ops.compose_sql(sql, params)`` returns ``sql`` with the
    parameters written in exactly as the driver writes them when it runs
    the statement (psycopg's ``mogrify``), and Django's SQL marks a
    parameter ``%s`` and a literal percent sign ``%%``.

Both paths (the rows' shape)
    ``queryset._iterable_class`` says what a row is (an instance, a dict, a
    tuple, a named tuple, a flat value); setting it on a ``values_list()``
    copy to ``ValuesListIterable`` makes a flat row a tuple.

:func:`self_check` verifies the compiled-page part of this contract at the
first page of each walk on a connection (cached per process and database
vendor): the attributes and signatures exist, a tiny statement compiled
once with :class:`rangeqs._plans.prepared.Slot` placeholders and rebound
equals the one an ordinary evaluation compiles with the value bound, its key
column is found and read, and raw rows parse back into the rows the
queryset's own iterable makes. It runs no query. A failure selects the fallback.

Fallback (public API only)
    A page is ``queryset.filter(<position>).order_by(<keys>)[:size]``
    evaluated as any queryset is (the position values are bound by the same
    ``Slot`` expressions, through ``Expression.as_sql``); the key values are
    read from the rows (annotations, instance attributes); index hints are
    added through ``connection.execute_wrapper``; a merge page first asks
    the branches for the primary keys of their next rows, then fetches the
    page by those keys (``docs/explanation/compiled-pages.rst`` gives the
    statement counts).

The two fallbacks are independent: ``RANGEQS_COMPILED_PAGES = False``
changes how pages run, never how a queryset is analysed, so every plan stays
available on it.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.expressions import Col
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
)
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.constants import MULTI

from rangeqs._django import query
from rangeqs._stored import position_value

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, QuerySet
    from django.db.models.sql.compiler import _AsSqlType

__all__ = [
    "KeyColumns",
    "binds_on_the_client",
    "compile_statement",
    "compiled_pages",
    "constants_written_in",
    "defers_nothing",
    "empty_compiler",
    "fetch_compiled",
    "high_mark",
    "iterable_class",
    "make_rows",
    "prefetch_lookups",
    "self_check",
    "self_check_fails",
    "with_tuple_rows",
]

_checked: dict[str, bool] = {}
_checked_lock = threading.Lock()
# Test hook (see self_check_fails): the self-check reports a failure.
_FAIL_SELF_CHECK = query.FailSwitch()


def compiled_pages(queryset: QuerySet[Any, Any]) -> bool:
    """Whether a walk of ``queryset`` starting now compiles its pages.

    ``settings.RANGEQS_COMPILED_PAGES = False`` forces the fallback; a
    Django release outside :data:`rangeqs._django.query.TESTED_DJANGO`
    compiles only when the self-check passes. Read when a walk starts, never at import.
    """
    if not getattr(settings, "RANGEQS_COMPILED_PAGES", True):
        return False
    if _FAIL_SELF_CHECK.on:
        return False
    if query.tested_release():
        return True
    return self_check(queryset)


def self_check_fails() -> contextlib.AbstractContextManager[None]:
    """Test hook: inside it, the self-check fails (and is not cached), so
    that every walk started there takes the fallback, as on a Django release
    whose private API changed."""
    return _FAIL_SELF_CHECK.forced()


def self_check(queryset: QuerySet[Any, Any]) -> bool:
    """Whether this Django keeps the contract above for statements of
    ``queryset``'s model on its database (cached per vendor)."""
    if _FAIL_SELF_CHECK.on:
        return False
    connection = connections[queryset.db]
    with _checked_lock:
        if connection.vendor not in _checked:
            try:
                passed = _contract_holds(queryset, connection)
            except Exception:
                passed = False
            _checked[connection.vendor] = passed
        return _checked[connection.vendor]


def _contract_holds(
    queryset: QuerySet[Any, Any], connection: BaseDatabaseWrapper
) -> bool:
    # prepared.py imports this module: Slot is imported at the first check.
    from rangeqs._plans.prepared import Slot, bound_slots  # noqa: PLC0415

    execute = inspect.signature(SQLCompiler.execute_sql).parameters
    get_compiler = inspect.signature(Query.get_compiler).parameters
    if not {"result_type", "chunked_fetch"} <= execute.keys():
        return False
    if not {"using", "connection"} <= get_compiler.keys():
        return False
    for name in ("setup_query", "get_converters", "as_sql", "execute_sql"):
        if not callable(getattr(SQLCompiler, name, None)):
            return False
    for name in ("_iterable_class", "_prefetch_related_lookups"):
        if not hasattr(queryset, name):
            return False
    if not hasattr(queryset.query, "deferred_loading"):
        return False
    model = queryset.model
    # An integer column: a value whose parameter and row are the same on
    # every database.
    column = next(
        (
            field
            for field in model._meta.concrete_fields
            if field.get_internal_type()
            in {"AutoField", "BigAutoField", "IntegerField", "BigIntegerField"}
        ),
        None,
    )
    if column is None:
        return True
    base = model._base_manager.db_manager(connection.alias).all()
    name = column.attname
    slotted = base.filter(**{f"{name}__gt": Slot(0, column)}).order_by(name)[:1]
    # Both ways: compiled once with a placeholder, and as an ordinary
    # queryset compiles with the value bound.
    compiler, sql, params = compile_statement(slotted, connection)
    with bound_slots([7]):
        expected = compile_statement(slotted.all(), connection)[1:]
    bound = tuple(7 if isinstance(p, Placeholder) else p for p in params)
    if (sql, bound) != expected or Placeholder(0) not in params:
        return False
    columns = KeyColumns.find(compiler, [name])
    if columns is None or columns.read([7] * len(compiler.select)) != (7,):
        return False
    flat = base.values_list(name, flat=True)
    flat_compiler = compile_statement(flat, connection)[0]
    return list(make_rows(flat, flat_compiler, [[(7,)]])) == [7]


@dataclass(frozen=True)
class Placeholder:
    """Stands in the compiled parameters for the value of slot ``index``."""

    index: int


def compile_statement(
    queryset: QuerySet[Any, Any], connection: BaseDatabaseWrapper
) -> tuple[SQLCompiler, str, tuple[Any, ...]]:
    """The compiler whose rows a page parses, and the queryset's SQL
    (``EmptyResultSet`` when its filters match nothing)."""
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    return compiler, sql, tuple(params)


def empty_compiler(
    queryset: QuerySet[Any, Any], connection: BaseDatabaseWrapper
) -> SQLCompiler:
    """A compiler for a statement that matches nothing (never run)."""
    compiler: SQLCompiler = queryset.query.get_compiler(connection=connection)
    return compiler


def fetch_compiled(
    compiler: SQLCompiler, sql: str | None, params: tuple[Any, ...]
) -> tuple[SQLCompiler, list[Any]]:
    """Run ``sql`` as ``compiler``'s statement: the raw rows, and the
    compiler that makes them into the queryset's rows."""
    compiler = copy.copy(compiler)

    def as_sql(*args: Any, **kwargs: Any) -> _AsSqlType:
        if sql is None:
            raise EmptyResultSet
        return sql, params

    compiler.as_sql = as_sql  # type: ignore[method-assign]
    chunks = compiler.execute_sql(MULTI, chunked_fetch=False) or []
    return compiler, list(itertools.chain.from_iterable(chunks))


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


def make_rows(
    queryset: QuerySet[Any, Any], compiler: SQLCompiler, chunks: list[list[Any]]
) -> Iterator[Any]:
    """The queryset's rows made from raw rows its compiler fetched."""
    compiler = copy.copy(compiler)

    def execute_sql(*args: Any, **kwargs: Any) -> list[list[Any]]:
        return chunks

    compiler.execute_sql = execute_sql  # type: ignore[method-assign,assignment]
    page = queryset.all()
    compiled_query = cast("_CompiledQuery", page.query.chain(_CompiledQuery))
    compiled_query.rangeqs_compiler = compiler
    page.query = compiled_query
    # Setting a values() query resets the iterable to dicts.
    page._iterable_class = queryset._iterable_class
    rows: Iterable[Any] = page._iterable_class(page)  # type: ignore[assignment]
    return iter(rows)


@dataclass(frozen=True)
class KeyColumns:
    """Where a compiled statement selects each key, and the converters that
    turn the raw value into the field's value (as the row's own would)."""

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


def high_mark(queryset: QuerySet[Any, Any]) -> int | None:
    """The slice's stop of ``queryset`` (``[:n]``), None when unsliced."""
    return queryset.query.high_mark


def iterable_class(queryset: QuerySet[Any, Any]) -> type[Any]:
    """What a row of ``queryset`` is made by (both paths)."""
    return cast("type[Any]", queryset._iterable_class)


def with_tuple_rows(queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
    """``queryset`` with a flat ``values_list()`` made to yield tuples."""
    if queryset._iterable_class is FlatValuesListIterable:
        queryset._iterable_class = ValuesListIterable
    return queryset


def defers_nothing(queryset: QuerySet[Any, Any]) -> bool:
    """Whether ``queryset``'s instances load every concrete field."""
    return bool(
        queryset._iterable_class is ModelIterable
        and queryset.query.deferred_loading == (frozenset(), True)
    )


def prefetch_lookups(queryset: QuerySet[Any, Any]) -> tuple[Any, ...]:
    """The ``prefetch_related()`` lookups of ``queryset``."""
    return tuple(queryset._prefetch_related_lookups)  # type: ignore[attr-defined]


def binds_on_the_client(connection: BaseDatabaseWrapper) -> bool:
    """Whether a PostgreSQL connection's cursors put the parameters into the
    statement's text (psycopg2; psycopg 3 unless ``server_side_binding``), so
    that one message may hold several statements."""
    # The test Django makes when it picks the cursor class; `Database` is the
    # driver module the backend imported.
    driver: Any = getattr(connection, "Database", None)
    if getattr(driver, "__name__", None) != "psycopg":
        return True
    options = connection.settings_dict.get("OPTIONS", {})
    return options.get("server_side_binding") is not True


_PARAMETER_MARKS = re.compile(r"%%|%s")


def constants_written_in(
    sql: str,
    params: Sequence[Any],
    connection: BaseDatabaseWrapper,
    *,
    keep: Callable[[Any], bool],
) -> tuple[str, tuple[Any, ...]]:
    """``sql`` with the parameters that ``keep`` does not keep written into
    its text, once, as the driver would write them at every execution.

    A page statement sends the same IN list and filter values on every page:
    with client-side binding, psycopg would quote a list of 100 integers
    again each time (about 0.14 ms a page). The text the server receives is
    the same either way. Anything unexpected leaves the statement as it is.
    """
    if connection.vendor != "postgresql" or not binds_on_the_client(connection):
        return sql, tuple(params)
    compose = getattr(connection.ops, "compose_sql", None)
    marks = _PARAMETER_MARKS.findall(sql)
    if compose is None or marks.count("%s") != len(params):
        return sql, tuple(params)
    pieces = _PARAMETER_MARKS.split(sql)
    written: list[str] = [pieces[0]]
    kept: list[Any] = []
    values = iter(params)
    for mark, piece in zip(marks, pieces[1:], strict=True):
        if mark == "%%":
            written.append(mark)
        else:
            value = next(values)
            if keep(value):
                written.append(mark)
                kept.append(value)
            else:
                # Still a template for the driver: its percent signs doubled.
                written.append(str(compose("%s", [value])).replace("%", "%%"))
        written.append(piece)
    return "".join(written), tuple(kept)
