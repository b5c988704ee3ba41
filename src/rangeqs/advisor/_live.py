"""The live verdict: does the planner read a walk's pages as the rules say?

The static rules say which index can serve a keyset walk; the planner picks
a path from its row estimates. With a filter correlated with the IN column
(a tenant filter: every group belongs to one project) PostgreSQL multiplies
the selectivities, expects a handful of rows, and sorts them instead; SQLite
and MariaDB may take the tenant's index. A :class:`LiveReport` holds what
EXPLAIN showed at three positions of the walk, as data (codes, index names,
row counts), and the fixes that apply; ``str()`` renders it in English.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.db import connections

from rangeqs._where import where_conditions
from rangeqs.advisor._explain import explain_walk
from rangeqs.advisor._statistics import analyzed, has_dependency_statistics

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs.advisor._explain import QueryPlan
    from rangeqs.advisor._report import Report

__all__ = ["Fix", "LiveFinding", "LiveReport", "live_report"]

FindingCode = Literal["sorts", "other-index", "filter-index", "full-scan"]
FixCode = Literal["analyze", "create-statistics", "planner-settings", "hint", "index"]

_WIDTH = 88


@dataclass(frozen=True)
class LiveFinding:
    """What the planner does at one position where it does not serve the walk."""

    code: FindingCode
    #: ``"start"``, ``"middle"`` or ``"end"`` of the walk.
    position: str
    #: The indexes the planner reads there (to find rows, then to filter them).
    chosen_indexes: tuple[str, ...]
    #: The rows it expects the table scan to find, and (with ``analyze``)
    #: the rows it found.
    estimated_rows: float | None
    actual_rows: float | None


@dataclass(frozen=True)
class Fix:
    """A change that lets the planner choose the serving index."""

    code: FixCode
    #: The statement (or SQL fragment, for a hint) to apply.
    sql: str


@dataclass(frozen=True)
class LiveReport:
    """The static verdict beside the live planner's, position by position."""

    model_label: str
    order_by: tuple[str, ...]
    #: The static rules find an index that serves the walk.
    served_statically: bool
    #: That index (the static verdict's).
    index_name: str | None
    #: At every position the planner reads that index, with no sort and a
    #: scan narrowed by the filters.
    served_by_planner: bool
    findings: tuple[LiveFinding, ...]
    fixes: tuple[Fix, ...]
    #: ``RangeQuerySetWrapper`` keeps its own pages of this shape to the
    #: index whatever the planner estimates (rangeqs._plans.bounded).
    pages_guarded: bool
    #: Each position's plan.
    plans: tuple[tuple[str, QueryPlan], ...]

    def as_dict(self) -> dict[str, Any]:
        """The live verdict as JSON-ready data."""
        return {
            "model": self.model_label,
            "order_by": list(self.order_by),
            "served_statically": self.served_statically,
            "index_name": self.index_name,
            "served_by_planner": self.served_by_planner,
            "findings": [
                {
                    "code": f.code,
                    "position": f.position,
                    "chosen_indexes": list(f.chosen_indexes),
                    "estimated_rows": f.estimated_rows,
                    "actual_rows": f.actual_rows,
                }
                for f in self.findings
            ],
            "fixes": [{"code": fix.code, "sql": fix.sql} for fix in self.fixes],
            "pages_guarded": self.pages_guarded,
        }

    def __str__(self) -> str:
        return render_live(self)


def live_report(
    report: Report,
    queryset: QuerySet[Any],
    keys: Sequence[Any],
    *,
    using: str,
    step: int,
    analyze: bool,
) -> LiveReport:
    """Explain the walk at each position and compare with ``report``."""
    plans = explain_walk(queryset, keys, using=using, step=step, analyze=analyze)
    columns = frozenset(str(key.field.column) for key in keys)
    findings = tuple(
        finding
        for position, plan in plans
        for finding in _findings(position, plan, report.index_name, columns)
    )
    served = report.served and not findings
    fixes = () if served else _fixes(report, queryset, using=using)
    return LiveReport(
        model_label=report.model_label,
        order_by=report.order_by,
        served_statically=report.served,
        index_name=report.index_name,
        served_by_planner=served,
        findings=findings,
        fixes=fixes,
        pages_guarded=_pages_guarded(queryset, keys),
        plans=plans,
    )


def _findings(
    position: str,
    plan: QueryPlan,
    index_name: str | None,
    keyset_columns: frozenset[str],
) -> list[LiveFinding]:
    codes: list[FindingCode] = []
    if plan.sorts and not _sorts_one_page(position, plan, index_name, keyset_columns):
        codes.append("sorts")
    if index_name is not None and index_name not in plan.index_names:
        codes.append("other-index")
    if plan.filter_index_names:
        codes.append("filter-index")
    if plan.full_scan:
        codes.append("full-scan")
    return [
        LiveFinding(
            code=code,
            position=position,
            chosen_indexes=(*plan.index_names, *plan.filter_index_names),
            estimated_rows=plan.estimated_rows,
            actual_rows=plan.actual_rows,
        )
        for code in codes
    ]


def _sorts_one_page(
    position: str,
    plan: QueryPlan,
    index_name: str | None,
    keyset_columns: frozenset[str],
) -> bool:
    """After the end position only a page of rows is left: when the serving
    index alone finds them, bounded by the whole keyset, a sort reads no more
    than the page would, and a planner that prefers it there (a close call on
    its costs) is not failing the walk."""
    return (
        position == "end"
        and set(plan.index_names) == {index_name}
        and not plan.filter_index_names
        and not plan.full_scan
        and keyset_columns <= plan.bound_columns
    )


def _fixes(report: Report, queryset: QuerySet[Any], *, using: str) -> tuple[Fix, ...]:
    connection = connections[using]
    model = queryset.model
    quote = connection.ops.quote_name
    table = str(model._meta.db_table)
    vendor = connection.vendor
    fixes: list[Fix] = []
    if not report.served:
        if report.recommendation is not None:
            fixes.append(Fix("index", report.recommendation.operation_source()))
        return tuple(fixes)
    analyze_sql = (
        f"ANALYZE TABLE {quote(table)}"
        if vendor == "mysql"
        else (f"ANALYZE {quote(table)}")
    )
    if not analyzed(model, using=using):
        fixes.append(Fix("analyze", analyze_sql))
    # The columns whose selectivities the planner multiplies: every column
    # the filters fix to a value or a list.
    columns = list(
        dict.fromkeys(
            str(c.field.column)
            for c in where_conditions(queryset)
            if c.kind in {"exact", "in"}
            and c.field is not None
            and c.field.model._meta.concrete_model is model._meta.concrete_model
        )
    )
    if (
        vendor == "postgresql"
        and len(columns) >= 2
        and not has_dependency_statistics(model, columns, using=using)
    ):
        name = f"{table}_{'_'.join(columns)}_dependencies"[:63]
        fixes.append(
            Fix(
                "create-statistics",
                f"CREATE STATISTICS {quote(name)} (dependencies) ON "
                f"{', '.join(quote(c) for c in columns)} FROM {quote(table)}; "
                f"{analyze_sql}",
            )
        )
    assert report.index_name is not None
    if vendor == "postgresql":
        # No hints without an extension: settings for the statement alone.
        fixes.append(
            Fix(
                "planner-settings",
                "SET LOCAL enable_sort = off; SET LOCAL enable_incremental_sort = off",
            )
        )
    elif vendor == "sqlite":
        fixes.append(
            Fix("hint", f"FROM {quote(table)} INDEXED BY {quote(report.index_name)}")
        )
    elif vendor == "mysql":
        fixes.append(
            Fix("hint", f"FROM {quote(table)} FORCE INDEX ({quote(report.index_name)})")
        )
    return tuple(fixes)


def _pages_guarded(queryset: QuerySet[Any], keys: Sequence[Any]) -> bool:
    # The plans import the advisor: import them only once both are loaded.
    from rangeqs._plans.bounded import page_guard  # noqa: PLC0415

    return page_guard(queryset, keys, list_kind=None) is not None


_FINDING_TEXT: dict[FindingCode, str] = {
    "sorts": "sorts the rows it finds",
    "other-index": "does not read {index}",
    "filter-index": "filters the rows with another index, read whole on every page",
    "full-scan": "reads rows no filter narrows",
}

_FIX_TEXT: dict[FixCode, str] = {
    "analyze": "The table has no planner statistics: run",
    "create-statistics": (
        "PostgreSQL multiplies the selectivities of the filters as if the "
        "columns were independent; tell it they are not (functional "
        "dependencies, PostgreSQL 10+), then re-check:"
    ),
    "planner-settings": (
        "Or turn sorts off for the page statement alone, in its transaction "
        "(what rangeqs's own pages do):"
    ),
    "hint": "Name the index in the query (a hint):",
    "index": "Add the index the static verdict recommends:",
}


def _row_count_text(value: float | None) -> str:
    return "?" if value is None else f"{value:,.0f}"


def render_live(live: LiveReport) -> str:
    """The live verdict in English: the one place its sentences are written."""
    if live.served_by_planner:
        verdict = (
            f"SERVED, by the planner too: every page reads {live.index_name} "
            f"in keyset order, with no sort."
        )
    elif live.served_statically:
        verdict = (
            f"SERVED statically by {live.index_name}, NOT SERVED by the live planner."
        )
    else:
        verdict = "NOT SERVED: no index serves this walk (see the static report)."
    lines = [
        f"rangeqs live check for {live.model_label}, order_by={live.order_by!r}",
        verdict,
    ]
    positions = dict.fromkeys(finding.position for finding in live.findings)
    for position in positions:
        found = [f for f in live.findings if f.position == position]
        what = " and ".join(
            _FINDING_TEXT[f.code].format(index=live.index_name) for f in found
        )
        first = found[0]
        chosen = ", ".join(first.chosen_indexes) or "no index"
        estimate = f"expects {_row_count_text(first.estimated_rows)} rows"
        if first.actual_rows is not None:
            estimate += f", finds {_row_count_text(first.actual_rows)}"
        lines.append(
            textwrap.fill(
                f"At the {position} of the walk the planner {what} "
                f"(reads {chosen}; {estimate}).",
                _WIDTH,
                initial_indent="  - ",
                subsequent_indent="    ",
            )
        )
    if live.fixes:
        lines.append("Fixes:")
        for fix in live.fixes:
            lines.append(
                textwrap.fill(
                    _FIX_TEXT[fix.code],
                    _WIDTH,
                    initial_indent="  - ",
                    subsequent_indent="    ",
                )
            )
            lines.append(f"      {fix.sql}")
    if live.pages_guarded and not live.served_by_planner:
        lines.append(
            textwrap.fill(
                "RangeQuerySetWrapper's own pages of this shape keep to the index "
                "whatever the estimates (no sort on PostgreSQL, an index hint on "
                "SQLite and MariaDB); other queries of this shape need a fix above.",
                _WIDTH,
            )
        )
    return "\n".join(lines)
