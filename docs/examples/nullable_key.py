"""How-to: iterate a key that may be NULL."""

from __future__ import annotations

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import GroupHash


def hashes_by_group(project_id: int) -> list[tuple[int | None, str]]:
    """Every hash of the project ordered by group, ungrouped hashes included."""
    queryset = GroupHash.objects.filter(project_id=project_id)
    wrapper = RangeQuerySetWrapper(queryset, step=500, order_by=("group_id", "id"))
    return [(grouphash.group_id, grouphash.hash) for grouphash in wrapper]


def hashes_of_groups(group_ids: list[int]) -> list[str]:
    """The filter rules NULL out: no query is spent on the NULL phase."""
    queryset = GroupHash.objects.filter(group_id__in=group_ids)
    wrapper = RangeQuerySetWrapper(queryset, step=500, order_by=("group_id", "id"))
    return [grouphash.hash for grouphash in wrapper]
