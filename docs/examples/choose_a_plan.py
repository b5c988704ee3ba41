"""How-to: pick the plan for a task that walks ``group_id IN (...)``."""

from __future__ import annotations

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import GroupHash


def hashes_group_by_group(project_id: int, group_ids: list[int]) -> list[str]:
    """Every hash of the groups, one group after another: the partition plan."""
    queryset = GroupHash.objects.filter(project_id=project_id, group_id__in=group_ids)
    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=100)
    return [grouphash.hash for grouphash in wrapper]


def hashes_in_id_order(project_id: int, group_ids: list[int]) -> list[str]:
    """Every hash of the groups in id order across groups: the merge plan."""
    queryset = GroupHash.objects.filter(project_id=project_id, group_id__in=group_ids)
    wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=100, plan="merge")
    return [grouphash.hash for grouphash in wrapper]


def plan_in_use(group_ids: list[int], order_by: str | tuple[str, ...]) -> str:
    """The plan "auto" picks for this filter and order."""
    queryset = GroupHash.objects.filter(group_id__in=group_ids)
    return RangeQuerySetWrapper(queryset, order_by=order_by).plan
