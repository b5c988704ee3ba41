"""How-to: refuse to start a walk that no index serves."""

from __future__ import annotations

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import GroupHash


def hashes_of(project_id: int, group_ids: list[int]) -> RangeQuerySetWrapper[GroupHash]:
    queryset = GroupHash.objects.filter(project_id=project_id, group_id__in=group_ids)
    # "error" raises InvalidQuerySetError at construction; True only logs the
    # advisor's report once on the "rangeqs" logger. No query either way.
    return RangeQuerySetWrapper(
        queryset, order_by=("group_id", "id"), check_index="error"
    )
