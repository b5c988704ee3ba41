"""Ask the live database how it runs a keyset page, and read the answer.

PostgreSQL: ``EXPLAIN (FORMAT JSON)``, with ``ANALYZE`` and ``BUFFERS`` on
request (a ``Sort`` node is a sort). SQLite: ``EXPLAIN QUERY PLAN`` (``USE
TEMP B-TREE FOR ORDER BY`` is a sort, ``SCAN`` a full scan). MariaDB:
``EXPLAIN FORMAT=JSON``, ``ANALYZE FORMAT=JSON`` on request (``filesort`` is a
sort, access type ``ALL`` a full scan).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connections

from rangeqs._keyset import after
from rangeqs._where import where_conditions
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key

__all__ = ["POSITIONS", "QueryPlan", "explain_page", "explain_walk"]

#: Where in a walk :func:`explain_walk` explains a page: a planner's estimate
#: for the rows after a position depends on the position. After ``"end"``
#: only ``step`` rows are left.
POSITIONS = ("start", "middle", "end")


@dataclass(frozen=True)
class QueryPlan:
    """What the database's planner does with one keyset page."""

    #: The plan sorts rows (PostgreSQL ``Sort``, SQLite ``USE TEMP B-TREE FOR
    #: ORDER BY``, MariaDB ``filesort``).
    sorts: bool
    #: True when no filter of the queryset narrows the scan (the table is read
    #: sequentially, or an index is read in key order with every filter
    #: checked row by row, as many rows per page as it takes to find a page).
    full_scan: bool
    #: Indexes the plan reads, in plan order.
    index_names: tuple[str, ...]
    #: The database's own output (PostgreSQL and MariaDB JSON, parsed; the
    #: SQLite plan rows as text lines).
    raw: Any
    #: The page query that was explained, with its parameters inlined for
    #: reading (never for running).
    sql: str
    #: The rows the planner expects the scan of the table to find (None where
    #: the database does not say: SQLite).
    estimated_rows: float | None = None
    #: The rows that scan found (with ``analyze``; None otherwise).
    actual_rows: float | None = None
    #: Other indexes read whole to filter the rows (MariaDB's rowid filter:
    #: every entry the filter on that index matches, on every page).
    filter_index_names: tuple[str, ...] = ()
    #: The columns the index accesses are bounded by (their index
    #: conditions), so not read whole.
    bound_columns: frozenset[str] = frozenset()

    @property
    def served(self) -> bool:
        return not self.sorts and not self.full_scan

    def __str__(self) -> str:
        sort = "sorts" if self.sorts else "no sort"
        scan = "full scan" if self.full_scan else "scan narrowed by the filters"
        indexes = ", ".join(self.index_names) or "no index"
        return f"{sort}, {scan}, reads {indexes}"


@dataclass
class _Reading:
    sorts: bool = False
    sequential: bool = False
    #: Columns the index accesses are bounded by.
    bound_columns: set[str] = field(default_factory=set)
    index_names: list[str] = field(default_factory=list)
    estimated_rows: float | None = None
    actual_rows: float | None = None
    filter_index_names: list[str] = field(default_factory=list)


def explain_page(
    queryset: QuerySet[Any],
    keys: Sequence[Key],
    *,
    using: str,
    step: int,
    analyze: bool,
    buffers: bool,
) -> QueryPlan:
    """Explain the second page of a keyset walk: the first page has no bound,
    every later page has, and a plan is only honest about the later ones."""
    queryset = queryset.using(using)
    _check_options(using, analyze=analyze, buffers=buffers)
    orderings = [key.ordering for key in keys]
    first = queryset.order_by(*orderings).values_list(*(k.name for k in keys))[:1]
    return _explain_after(
        queryset,
        keys,
        next(iter(first), None),
        using=using,
        step=step,
        analyze=analyze,
        buffers=buffers,
    )


def explain_walk(
    queryset: QuerySet[Any],
    keys: Sequence[Key],
    *,
    using: str,
    step: int,
    analyze: bool = False,
) -> tuple[tuple[str, QueryPlan], ...]:
    """Explain a page after the first row, after the middle row and before
    the last ``step`` rows of the walk (:data:`POSITIONS`).

    Finding the positions reads the walk's keys (a count and two offsets):
    a verification's cost, never a page's.
    """
    queryset = queryset.using(using)
    _check_options(using, analyze=analyze, buffers=False)
    orderings = [key.ordering for key in keys]
    ordered = queryset.order_by(*orderings).values_list(*(k.name for k in keys))
    count = queryset.count()
    offsets = {"start": 0, "middle": count // 2, "end": max(count - step - 1, 0)}
    plans = []
    for name in POSITIONS:
        position = next(iter(ordered[offsets[name] : offsets[name] + 1]), None)
        plan = _explain_after(
            queryset,
            keys,
            position,
            using=using,
            step=step,
            analyze=analyze,
            buffers=False,
        )
        plans.append((name, plan))
    return tuple(plans)


def _check_options(using: str, *, analyze: bool, buffers: bool) -> None:
    connection = connections[using]
    vendor = connection.vendor
    if buffers and vendor != "postgresql":
        raise InvalidQuerySetError(
            f"buffers=True needs PostgreSQL, and database {using!r} is "
            f"{connection.display_name}: call verify() without it."
        )
    if analyze and vendor == "sqlite":
        raise InvalidQuerySetError(
            "SQLite cannot run EXPLAIN ANALYZE: call verify() without analyze=True."
        )


def _explain_after(
    queryset: QuerySet[Any],
    keys: Sequence[Key],
    position: Sequence[Any] | None,
    *,
    using: str,
    step: int,
    analyze: bool,
    buffers: bool,
) -> QueryPlan:
    """Explain the page after ``position`` (None: the first page)."""
    connection = connections[using]
    vendor = connection.vendor
    orderings = [key.ordering for key in keys]
    page = queryset.order_by(*orderings)
    if position is not None and position[0] is not None:
        page = page.filter(after(keys, position, connection))
    page = page[:step]
    table = queryset.model._meta.db_table
    if vendor == "postgresql":
        options = {"analyze": analyze, "buffers": buffers}
        raw: Any = json.loads(
            page.explain(format="json", **{k: v for k, v in options.items() if v})
        )
        reading = _read_postgresql(raw, table)
    elif vendor == "mysql":
        # MariaDB's ANALYZE FORMAT=JSON runs the query and keeps the same keys.
        raw = json.loads(
            page.explain(format="json", analyze=True)
            if analyze
            else page.explain(format="json")
        )
        # Django hands MariaDB's JSON document over as one JSON string.
        if isinstance(raw, str):
            raw = json.loads(raw)
        reading = _read_mariadb(raw)
    else:
        raw = page.explain().splitlines()
        reading = _read_sqlite(raw, table)
    filter_columns = {
        str(c.field.column)
        for c in where_conditions(queryset)
        if c.field is not None and c.field.model is queryset.model
    }
    narrowed = not filter_columns or bool(filter_columns & reading.bound_columns)
    return QueryPlan(
        sorts=reading.sorts,
        full_scan=reading.sequential or not narrowed,
        index_names=tuple(reading.index_names),
        raw=raw,
        sql=str(page.query),
        estimated_rows=reading.estimated_rows,
        actual_rows=reading.actual_rows,
        filter_index_names=tuple(reading.filter_index_names),
        bound_columns=frozenset(reading.bound_columns),
    )


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _read_postgresql(raw: Any, table: str) -> _Reading:
    reading = _Reading()
    for node in _walk_postgresql(raw[0]["Plan"]):
        node_type = node["Node Type"]
        if node_type in {"Sort", "Incremental Sort"}:
            reading.sorts = True
        if node_type == "Seq Scan" and node.get("Relation Name") == table:
            reading.sequential = True
        if node.get("Relation Name") == table and reading.estimated_rows is None:
            # The scan of the table: what the planner expects the filters to
            # leave, the number that decides between a sort and an index.
            reading.estimated_rows = float(node["Plan Rows"])
            if "Actual Rows" in node:
                reading.actual_rows = float(node["Actual Rows"]) * node.get(
                    "Actual Loops", 1
                )
        if "Index Name" in node:
            reading.index_names.append(node["Index Name"])
            reading.bound_columns.update(
                _IDENTIFIER.findall(node.get("Index Cond", ""))
            )
    return reading


def _walk_postgresql(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _walk_postgresql(child)


_SQLITE_ACCESS = re.compile(
    r"^SEARCH \S+ USING (?:(?:COVERING )?INDEX (?P<index>\S+)|"
    r"(?P<pk>INTEGER PRIMARY KEY|PRIMARY KEY)) \((?P<bound>[^)]*)\)"
)


def _read_sqlite(lines: Sequence[str], table: str) -> _Reading:
    reading = _Reading()
    for line in lines:
        # Django prints each plan row as "id parent notused detail".
        detail = line.split(" ", 3)[-1]
        if detail.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in detail:
            reading.sorts = True
        if detail == f"SCAN {table}":
            reading.sequential = True
        if match := _SQLITE_ACCESS.match(detail):
            reading.index_names.append(match["index"] or "PRIMARY KEY")
            reading.bound_columns.update(_IDENTIFIER.findall(match["bound"]))
        elif detail.startswith(f"SCAN {table} USING"):
            reading.index_names.append(detail.rsplit(" ", 1)[-1])
    return reading


def _read_mariadb(raw: Any) -> _Reading:
    reading = _Reading()
    for key, value in _walk_json(raw):
        if key in {"filesort", "read_sorted_file"}:
            reading.sorts = True
        if key == "table" and isinstance(value, dict):
            if value.get("access_type") == "ALL":
                reading.sequential = True
            if "key" in value:
                reading.index_names.append(value["key"])
            rowid_filter = value.get("rowid_filter", {}).get("range", {})
            if "key" in rowid_filter:
                reading.filter_index_names.append(rowid_filter["key"])
            if "rows" in value and reading.estimated_rows is None:
                filtered = float(value.get("filtered", 100))
                reading.estimated_rows = float(value["rows"]) * filtered / 100
                if "r_rows" in value:
                    reading.actual_rows = (
                        float(value["r_rows"])
                        * float(value.get("r_filtered", 100))
                        / 100
                    )
            if value.get("access_type") not in {"ALL", "index"}:
                reading.bound_columns.update(value.get("used_key_parts", ()))
    return reading


def _walk_json(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield key, child
            yield from _walk_json(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk_json(child)
