"""The index advisor: does one index serve a keyset walk over a queryset?

    >>> report = advise(queryset, order_by=("group_id", "id"))
    >>> report.served, report.index_name, report.reasons
    >>> print(report)            # the whole verdict
    >>> report.verify()          # EXPLAIN on the live database

``check_index`` is the hook ``RangeQuerySetWrapper(..., check_index=...)``
calls at construction.
"""

from __future__ import annotations

from rangeqs.advisor._advise import advise, check_index
from rangeqs.advisor._explain import QueryPlan
from rangeqs.advisor._live import Fix, LiveFinding, LiveReport
from rangeqs.advisor._recommend import Recommendation
from rangeqs.advisor._report import Report

__all__ = [
    "Fix",
    "LiveFinding",
    "LiveReport",
    "QueryPlan",
    "Recommendation",
    "Report",
    "advise",
    "check_index",
]
