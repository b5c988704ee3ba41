"""How-to: delete (or change) the rows you are iterating over."""

from __future__ import annotations

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import GroupHash


def delete_one_by_one(project_id: int) -> int:
    deleted = 0
    queryset = GroupHash.objects.filter(project_id=project_id)
    for grouphash in RangeQuerySetWrapper(queryset, step=100):
        # delete() sets grouphash.pk to None; the wrapper read the key before.
        grouphash.delete()
        deleted += 1
    return deleted


def delete_in_batches(project_id: int) -> int:
    deleted = 0
    queryset = GroupHash.objects.filter(project_id=project_id).values_list(
        "id", flat=True
    )
    for ids in RangeQuerySetWrapper(queryset, step=100).batches():
        # One DELETE per page; the next page starts after the last id read.
        deleted += GroupHash.objects.filter(id__in=ids).delete()[0]
    return deleted


def unlink_groups(project_id: int) -> int:
    """Change a key of the order while walking it: no row is seen twice."""
    unlinked = 0
    queryset = GroupHash.objects.filter(project_id=project_id, group__isnull=False)
    wrapper = RangeQuerySetWrapper(queryset, step=100, order_by=("group_id", "id"))
    for grouphash in wrapper:
        grouphash.group = None
        grouphash.save(update_fields=["group"])
        unlinked += 1
    return unlinked
