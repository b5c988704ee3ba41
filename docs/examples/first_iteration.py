"""The tutorial's examples: walk a table page by page."""

from __future__ import annotations

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import GroupHash


def count_hashes_by_state(project_id: int) -> dict[int | None, int]:
    counts: dict[int | None, int] = {}
    queryset = GroupHash.objects.filter(project_id=project_id)
    for grouphash in RangeQuerySetWrapper(queryset, step=500):
        counts[grouphash.state] = counts.get(grouphash.state, 0) + 1
    return counts


def newest_hashes(project_id: int, how_many: int) -> list[str]:
    queryset = GroupHash.objects.filter(project_id=project_id).values_list(
        "hash", flat=True
    )
    # A negative step walks backwards: newest id first.
    return list(RangeQuerySetWrapper(queryset, step=-100, limit=how_many))


def hashes_by_date_added(project_id: int) -> list[str]:
    queryset = GroupHash.objects.filter(project_id=project_id)
    wrapper = RangeQuerySetWrapper(queryset, step=500, order_by=("date_added", "id"))
    return [grouphash.hash for grouphash in wrapper]
