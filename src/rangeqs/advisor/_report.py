"""The advisor's verdict, as data and as text for a terminal."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rangeqs.advisor._explain import explain_page
from rangeqs.advisor._live import LiveReport, live_report

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from rangeqs.advisor._explain import QueryPlan
    from rangeqs.advisor._recommend import Recommendation

__all__ = ["LiveReport", "Report"]

_WIDTH = 88


@dataclass(frozen=True)
class Report:
    """Whether one index serves a keyset walk over a queryset, and why."""

    #: One index gives the rows in keyset order, bounded by the filters, with
    #: no sort.
    served: bool
    #: The index that serves, or the best partial one, or None.
    index_name: str | None
    #: Every page sorts the remaining matching rows.
    needs_sort: bool
    #: No index narrows the scan by the filters.
    full_scan: bool
    #: Filter columns checked on the fetched rows rather than in the index.
    residual_filters: tuple[str, ...]
    #: Why, in plain sentences, index by index and column by column.
    reasons: list[str]
    #: The index to add (None when served, or when no index can serve).
    recommendation: Recommendation | None
    #: ``app_label.Model``.
    model_label: str
    #: The keyset order, as ``order_by()`` arguments.
    order_by: tuple[str, ...]
    _queryset: QuerySet[Any] = field(repr=False, compare=False)
    # Typed loosely: the key type is internal and would show in the docs.
    _keys: tuple[Any, ...] = field(repr=False, compare=False)
    # What makes two reports the same advice (rangeqs._warnings).
    _warning_key: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def verify(
        self,
        using: str | None = None,
        *,
        analyze: bool = False,
        buffers: bool = False,
        step: int = 100,
    ) -> QueryPlan:
        """EXPLAIN a keyset page (the second: it carries the keyset bound) on
        the live database.

        ``analyze`` runs the query (PostgreSQL, MariaDB); ``buffers`` counts
        the buffers it touches (PostgreSQL).
        """
        return explain_page(
            self._queryset,
            self._keys,
            using=using or self._queryset.db,
            step=step,
            analyze=analyze,
            buffers=buffers,
        )

    def verify_planner(
        self, using: str | None = None, *, step: int = 100, analyze: bool = False
    ) -> LiveReport:
        """Whether the live planner reads the pages from :attr:`index_name`
        at the start, middle and end of the walk, and what to do if not.

        Runs EXPLAIN three times (``analyze`` runs the pages, on PostgreSQL and
        MariaDB, to show the real row counts beside the estimates) and reads
        the walk's keys to find the positions.
        """
        return live_report(
            self,
            self._queryset,
            self._keys,
            using=using or self._queryset.db,
            step=step,
            analyze=analyze,
        )

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        recommendation = self.recommendation
        return {
            "model": self.model_label,
            "order_by": list(self.order_by),
            "served": self.served,
            "index_name": self.index_name,
            "needs_sort": self.needs_sort,
            "full_scan": self.full_scan,
            "residual_filters": list(self.residual_filters),
            "reasons": list(self.reasons),
            "recommendation": None
            if recommendation is None
            else {
                "fields": list(recommendation.fields),
                "name": recommendation.name,
                "operation": recommendation.operation_source(),
            },
        }

    def __str__(self) -> str:
        if self.served:
            verdict = "SERVED: one index gives the rows in keyset order, no sort."
        elif self.needs_sort:
            verdict = "NOT SERVED: every page sorts the remaining matching rows."
        else:
            verdict = "NOT SERVED: no index narrows the scan by the filters."
        lines = [
            f"rangeqs index advice for {self.model_label}, order_by={self.order_by!r}",
            verdict,
            f"Index: {self.index_name or 'none'}",
            f"Residual filters: {', '.join(self.residual_filters) or 'none'}",
            "Why:",
        ]
        for reason in self.reasons:
            lines.append(
                textwrap.fill(
                    reason, _WIDTH, initial_indent="  - ", subsequent_indent="    "
                )
            )
        if self.recommendation is not None:
            fields = ", ".join(self.recommendation.fields)
            lines.append(
                f"Recommendation: add index {self.recommendation.name} on ({fields}),"
                f" in a migration with atomic = False:"
            )
            lines.append(
                textwrap.indent(self.recommendation.operation_source(), "    ")
            )
        return "\n".join(lines)
