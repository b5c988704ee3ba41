"""Explanation: the advisor's verdicts on the GroupHash shapes of the seed.

Each function advises on GroupHash as it is after one migration, so the
indexes are those of that step: the initial schema, the seed's Option 1
``(group_id, id)`` and its Option 2 ``(project_id, group_id, id)``.
"""

from __future__ import annotations

from rangeqs.advisor import Report, advise
from rangeqs.examples.grouphash.schema import (
    ALTERNATIVE_MIGRATIONS,
    INITIAL,
    OPTION_1,
    OPTION_2,
    historical_grouphash,
)

PROJECT_ID = 1
GROUP_IDS = [11, 12, 13]


def before_any_new_index() -> Report:
    """The deletion task as it was: tenant filter, IN list, ordered by id."""
    grouphash = historical_grouphash(INITIAL)
    queryset = grouphash._default_manager.filter(
        project_id=PROJECT_ID, group_id__in=GROUP_IDS
    )
    return advise(queryset, order_by="id")


def option_1_as_the_seed_wrote_it() -> Report:
    """Option 1's index, project filter dropped, still ordered by id."""
    grouphash = historical_grouphash(OPTION_1)
    return advise(
        grouphash._default_manager.filter(group_id__in=GROUP_IDS), order_by="id"
    )


def option_1_ordered_by_group() -> Report:
    """Option 1's index, tenant filter kept, ordered by (group_id, id)."""
    grouphash = historical_grouphash(OPTION_1)
    queryset = grouphash._default_manager.filter(
        project_id=PROJECT_ID, group_id__in=GROUP_IDS
    )
    return advise(queryset, order_by=("group_id", "id"))


def option_2_as_the_seed_wrote_it() -> Report:
    """Option 2's index, tenant filter kept, ordered by id."""
    grouphash = historical_grouphash(OPTION_2, module=ALTERNATIVE_MIGRATIONS)
    queryset = grouphash._default_manager.filter(
        project_id=PROJECT_ID, group_id__in=GROUP_IDS
    )
    return advise(queryset, order_by="id")
