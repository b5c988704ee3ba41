"""Tutorial: delete groups, their Seer records first, as Sentry's deletion does."""

from __future__ import annotations

from rangeqs.examples.grouphash.models import Group
from rangeqs.examples.grouphash.tasks import call_delete_seer_grouping_records_by_hash


def delete_groups(group_ids: list[int]) -> int:
    """Schedule the Seer deletion of the groups' hashes, then delete the groups.

    Returns the number of hashes scheduled.
    """
    scheduled = call_delete_seer_grouping_records_by_hash(group_ids)
    # The hashes go with their groups (on_delete=CASCADE): walk them first.
    Group.objects.filter(id__in=group_ids).delete()
    return scheduled
