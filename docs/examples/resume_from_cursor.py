"""How-to: stop a long task and carry on later from where it stopped."""

from __future__ import annotations

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import GroupHash


def process_some(project_id: int, budget: int, cursor: str | None) -> str | None:
    """Handle at most ``budget`` hashes after ``cursor``; return the next cursor.

    None means the project is done.
    """
    queryset = GroupHash.objects.filter(project_id=project_id)
    wrapper = RangeQuerySetWrapper(queryset, step=100, after=cursor)
    for handled, grouphash in enumerate(wrapper, start=1):
        grouphash.state = 1
        grouphash.save(update_fields=["state"])
        if handled == budget:
            # Strictly after the row just handled: nothing is done twice.
            return wrapper.cursor
    return None


def process_all(project_id: int, budget: int) -> int:
    """Run ``process_some`` until the project is done; return how many runs it took."""
    runs = 0
    cursor = process_some(project_id, budget, None)
    runs += 1
    while cursor is not None:
        # In a real task, the cursor would travel in the next task's arguments.
        cursor = process_some(project_id, budget, cursor)
        runs += 1
    return runs
