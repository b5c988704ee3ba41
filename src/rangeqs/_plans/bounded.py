"""Page statements that keep to their index whatever the planner estimates.

A plan is bounded only if the database reads its page from the index that
serves it. Measured on PostgreSQL 15 and 18 (issue 10, findings §4): with a
tenant filter correlated with the IN column (``project_id = X AND group_id
IN (groups of X)``) and an index on ``project_id`` beside ``(group_id,
id)``, the planner multiplies the two selectivities, expects a handful of
rows, and runs a page, even a walk of one value (``group_id = g AND id >
z``), as ``BitmapAnd`` then a top-N sort of every remaining match. SQLite
takes the ``project_id`` index and a temporary B-tree when its statistics
make the tenant look selective; MariaDB intersects both indexes
(``index_merge``, ``filesort``) or builds a rowid filter from every entry of
the tenant.

On PostgreSQL the serving index is a way in of its own: scanned as a
bitmap, it hands over every row of an equality's value unordered, and a sort
follows. The planner picks that when it expects the value to hold about as
many rows as the page asks for, and on a value whose rows the statistics
undercount it sorts all of them (20,100 for a page of 1,000 in the tests).
Elsewhere the risk exists only when a filter outside the serving index is on
an indexed column. Only the pages at risk are guarded, so that every other
page runs exactly the statement it ran before:

- PostgreSQL: ``enable_sort`` and ``enable_incremental_sort`` are off for the
  page statement alone (``set_config(name, value, true)``, the function form
  of ``SET LOCAL``), and set back to their previous values right after it.
  Only the index that gives the keys' order is left without a penalty.
  Outside a transaction the settings go in front of the page statement, in
  the same message (``SET LOCAL ...; SET LOCAL ...; SELECT ...``): PostgreSQL
  runs a message of several statements as one implicit transaction, so the
  settings end with the page, at the cost of no extra round trip. That needs
  the parameters bound on the client (psycopg2, or psycopg 3 without
  ``server_side_binding``); with server-side binding the page runs in a
  short transaction of its own (``BEGIN``, the settings, the page,
  ``COMMIT``). Inside a transaction, the previous values are read and
  restored, with no savepoint (rolling one back would release
  ``select_for_update()``'s row locks). Nothing is session state, so a
  transaction-mode pooler (PgBouncer) keeps it on one server connection.
- SQLite: ``INDEXED BY <the serving index>``.
- MariaDB: ``FORCE INDEX (<the serving index>)``.

The hints go on the statement's own table only when the statement names it
once (a page of one table); a merge page that unions branches of the table
runs unhinted there.

None of this changes which rows match: a planner setting or an index hint
chooses how the rows are found, never which.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from django.db import connections, transaction
from django.db.models import Q

from rangeqs import _django
from rangeqs._declared_indexes import IndexFacts, declared_indexes, pk_is_rowid
from rangeqs._index_rules import judge
from rangeqs._inlist import in_list_condition
from rangeqs._where import filters_readable, where_conditions, without_condition

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model, QuerySet

    from rangeqs._declared_indexes import ModelIndex
    from rangeqs._index_rules import IndexFit
    from rangeqs._keys import Key
    from rangeqs._where import Condition

__all__ = [
    "BOUNDED_SORT_SETTINGS",
    "PLANNER_SETTINGS",
    "SETTINGS_COMMENT",
    "SETTINGS_IN_FRONT",
    "PageGuard",
    "page_guard",
    "settings_in_front",
]

#: Opens the statements that set and restore a guarded page's settings:
#: ``wrapper.queries`` counts the statements that fetch rows, not these.
SETTINGS_COMMENT = "/* rangeqs: page planner settings */ "

#: The PostgreSQL settings a guarded page turns off: every way to order rows
#: but reading them from an index in order.
PLANNER_SETTINGS = ("enable_sort", "enable_incremental_sort")

#: The settings turned off around a guarded statement that must sort a set
#: it has bounded itself (a merge page's keys): the sorts, and ``jit``, since
#: PostgreSQL before 18 prices a disabled step that is still taken at 10^10,
#: which would compile the statement at every page.
BOUNDED_SORT_SETTINGS = (*PLANNER_SETTINGS, "jit")

_IN_FRONT_COMMENT = "/* rangeqs: page planner settings, then the page */ "


def _in_front(settings: Sequence[str]) -> str:
    return _IN_FRONT_COMMENT + "".join(f"SET LOCAL {name} = off; " for name in settings)


#: What a guarded page statement sent in one message with its settings
#: starts with (outside a transaction, parameters bound on the client).
SETTINGS_IN_FRONT = _in_front(PLANNER_SETTINGS)

_IN_FRONT = re.compile(rf"{re.escape(_IN_FRONT_COMMENT)}(?:SET LOCAL \w+ = off; )+")

#: Which IN list a plan's pages take one value of: the list on the first
#: key (partition), on another column (merge), or none (plain).
ListKind = Literal["leading", "other"]


@dataclass(frozen=True)
class PageGuard:
    """How the page statements of one plan keep to ``index_name``."""

    #: The index that serves a page (the advisor's static verdict).
    index_name: str
    #: The table the pages read.
    table: str
    #: The index can be named in a hint: its name is the one the model
    #: declares, and it leads with the IN column a page walks.
    hintable: bool = True
    #: The ``order_by()`` arguments in which the index gives the rows of a
    #: range of one value of the IN column (``col >= v AND col <= v``) in
    #: the keys' order: the IN column where the index has it, in the
    #: direction the scan reads it, among the keys. None where no such
    #: range reads the keys in order: the index orders the column by an
    #: operator class of its own (``varchar_pattern_ops`` serves ``=`` but
    #: no range under the column's collation), holds it after a key, or is
    #: served only because it is unique before the keys end.
    range_order: tuple[str, ...] | None = None
    #: The PostgreSQL settings turned off around a page statement.
    settings: tuple[str, ...] = PLANNER_SETTINGS

    def sorting_bounded_sets(self) -> PageGuard:
        """This guard, for a statement that sorts only sets it bounds."""
        return replace(self, settings=BOUNDED_SORT_SETTINGS)

    def hinted(self, sql: str, connection: BaseDatabaseWrapper) -> str:
        """``sql`` with the vendor's hint to read the table through the index."""
        vendor = connection.vendor
        quote = connection.ops.quote_name
        if not self.hintable:
            return sql
        if vendor == "sqlite":
            hint = f"INDEXED BY {quote(self.index_name)}"
        elif vendor == "mysql":
            hint = f"FORCE INDEX ({quote(self.index_name)})"
        else:
            return sql
        # The table as the main FROM names it: subqueries of a filter come
        # aliased (U0), branches of a merge page name it once each.
        table = re.compile(
            rf"(FROM {re.escape(quote(self.table))})"
            r"(?=\s+(?:WHERE|INNER JOIN|LEFT OUTER JOIN|ORDER BY|LIMIT|GROUP BY)\b"
            r"|\s*$)"
        )
        if len(table.findall(sql)) != 1:
            return sql
        return table.sub(lambda match: f"{match[1]} {hint}", sql, count=1)

    @contextmanager
    def statement(self, connection: BaseDatabaseWrapper) -> Iterator[str]:
        """Around one page statement: PostgreSQL's sorts off, then back.

        Yields what the statement must start with: :data:`SETTINGS_IN_FRONT`
        when the settings travel in the page's own message, else nothing.
        """
        if connection.vendor != "postgresql":
            yield ""
            return
        if connection.get_autocommit() and not connection.in_atomic_block:
            if _django.binds_on_the_client(connection):
                with connection.execute_wrapper(_to_the_page_rows):
                    yield _in_front(self.settings)
                return
            # SET LOCAL outside a transaction lasts one statement: the page
            # gets a transaction of its own, committed (or rolled back) at once.
            with transaction.atomic(using=connection.alias):
                _set_planner_settings(connection, self.settings)
                yield ""
            return
        previous = _set_planner_settings(connection, self.settings)
        try:
            yield ""
        finally:
            # An aborted transaction accepts no statement; rolling it (or a
            # savepoint before the page) back undoes the settings anyway.
            if not _transaction_failed(connection):
                _restore_planner_settings(connection, self.settings, previous)


def settings_in_front(sql: str) -> tuple[str, str] | None:
    """A guarded page statement sent with its settings in front, as the
    settings and the page; None for any other statement."""
    match = _IN_FRONT.match(sql)
    if match is None:
        return None
    return match[0], sql[match.end() :]


def _to_the_page_rows(
    execute: Callable[..., Any],
    sql: str,
    params: Any,
    many: bool,
    context: dict[str, Any],
) -> Any:
    """After a message of several statements, psycopg 3 stands on the first
    result (a SET's, which has no rows): move on to the page's rows.
    psycopg2 stands on the last result already."""
    result = execute(sql, params, many, context)
    cursor = context["cursor"]
    while cursor.description is None and cursor.nextset():
        pass
    return result


def page_guard(
    queryset: QuerySet[Any, Any], keys: Sequence[Key], *, list_kind: ListKind | None
) -> PageGuard | None:
    """The guard for a plan's pages, or None when they need none.

    Static (no query but the server facts of ``IndexFacts``): the index
    rules the plan chooser applies find the index that serves a page (one
    value of the IN list in its place, for partition and merge); the pages
    are at risk on PostgreSQL when an equality enters that index, and
    everywhere when a filter the index leaves to the rows is on a column
    that another index holds.
    """
    if not filters_readable():
        # Which filter another index could take the page by is unknown:
        # the statement runs as Django writes it.
        return None
    page = _one_value_page(queryset, keys, list_kind)
    if page is None:
        return None
    page_queryset, in_column = page
    connection = connections[queryset.db]
    model = queryset.model
    # The declared indexes and the rules the plan chooser applies: no query
    # beyond the server facts, no schema editor.
    indexes = declared_indexes(
        model,
        IndexFacts.read(connection),
        pk_is_rowid=pk_is_rowid(model, connection),
    )
    conditions = where_conditions(page_queryset)
    verdict = judge(model, conditions, keys, indexes, vendor=connection.vendor)
    best = verdict.best
    if not verdict.served or best is None:
        return None
    serving = best.index
    # On PostgreSQL a bitmap scan of the serving index and a sort (module
    # docstring); elsewhere a filter another index could take the page by.
    entered_by_equality = connection.vendor == "postgresql" and bool(best.bounded_by)
    if not entered_by_equality and not _second_way_in(
        best, conditions=conditions, keys=keys, indexes=indexes, model=model
    ):
        return None
    return PageGuard(
        index_name=serving.name,
        table=model._meta.db_table,
        hintable=_hintable(serving, in_column),
        range_order=_range_order(best, keys, in_column),
    )


def _second_way_in(
    best: IndexFit,
    *,
    conditions: Sequence[Condition],
    keys: Sequence[Key],
    indexes: Sequence[ModelIndex],
    model: type[Model],
) -> bool:
    """Whether a filter the serving index ``best`` leaves to the rows is on a
    column that another index holds."""
    used = {*best.bounded_by, *(key.name for key in keys)}
    concrete = model._meta.concrete_model
    residual = {
        condition.field.attname
        for condition in conditions
        if condition.field is not None
        and condition.field.model._meta.concrete_model is concrete
        and condition.field.attname not in used
    }
    return bool(residual) and any(
        residual.intersection(column.attname for column in index.columns)
        for index in indexes
        if index.identity != best.index.identity
    )


def _hintable(index: ModelIndex, in_column: str | None) -> bool:
    # Names the database chose (a primary key, an inline unique, a foreign
    # key's index on InnoDB) are guessed, and a hint naming a missing index
    # is an error on SQLite and MariaDB.
    declared = index.source.startswith(("Meta.indexes", "UniqueConstraint"))
    # An index that serves one value's page without leading with its column
    # (MariaDB's (project_id, id) for `project_id = X AND group_id = v ORDER
    # BY id`) reads the whole tenant: never force it.
    leads = in_column is None or (
        bool(index.columns) and index.columns[0].attname == in_column
    )
    return declared and leads


def _range_order(
    best: IndexFit, keys: Sequence[Key], in_column: str | None
) -> tuple[str, ...] | None:
    """See ``PageGuard.range_order``: the index's columns up to the last key,
    but the ones the page's equalities fix (constants, in any order)."""
    if in_column is None or in_column not in best.fixed:
        # The IN column after a key: a range there is no start of a scan.
        return None
    names = {key.name: key for key in keys}
    order: list[str] = []
    left = set(names)
    for column in best.index.columns:
        if not left:
            break
        if column.attname == in_column:
            if column.opclass is not None:
                return None
            descending = column.descending != best.reversed_scan
            order.append(f"-{in_column}" if descending else in_column)
        elif column.attname in left:
            order.append(names[column.attname].ordering)
            left.discard(column.attname)
    if left:
        return None
    return tuple(order)


def _one_value_page(
    queryset: QuerySet[Any, Any], keys: Sequence[Key], list_kind: ListKind | None
) -> tuple[QuerySet[Any, Any], str | None] | None:
    """The filters a page statement is planned with: the IN list, for the
    plans that walk it, as one of its values; and the IN column."""
    if list_kind is None:
        return queryset, None
    lead = keys[0].name
    condition = (
        in_list_condition(queryset, column=lead)
        if list_kind == "leading"
        else in_list_condition(queryset, not_column=lead)
    )
    if condition is None or condition.field is None or not condition.values:
        return None
    attname = str(condition.field.attname)
    one_value = without_condition(queryset, condition).filter(
        Q(**{attname: condition.values[0]})
    )
    return one_value, attname


def _set_planner_settings(
    connection: BaseDatabaseWrapper, settings: Sequence[str]
) -> tuple[str, ...]:
    """Turn the settings off for this transaction; their values before."""
    # The current values are read before set_config runs: a target list is
    # evaluated left to right.
    reads = ", ".join(f"current_setting('{name}')" for name in settings)
    writes = ", ".join(f"set_config('{name}', 'off', true)" for name in settings)
    with connection.cursor() as cursor:
        cursor.execute(f"{SETTINGS_COMMENT}SELECT {reads}, {writes}")
        row = cursor.fetchone()
    assert row is not None
    return tuple(row[: len(settings)])


def _restore_planner_settings(
    connection: BaseDatabaseWrapper, settings: Sequence[str], previous: Sequence[str]
) -> None:
    writes = ", ".join(f"set_config('{name}', %s, true)" for name in settings)
    with connection.cursor() as cursor:
        cursor.execute(f"{SETTINGS_COMMENT}SELECT {writes}", list(previous))


# libpq's PQtransactionStatus values, which psycopg 3 and psycopg2 both
# report as connection.info.transaction_status.
_PQTRANS_INERROR = 3
_PQTRANS_UNKNOWN = 4


def _transaction_failed(connection: BaseDatabaseWrapper) -> bool:
    """The server transaction is aborted (or the connection gone)."""
    raw: Any = connection.connection
    if raw is None or raw.closed:
        return True
    status = int(raw.info.transaction_status)
    return status in {_PQTRANS_INERROR, _PQTRANS_UNKNOWN}
