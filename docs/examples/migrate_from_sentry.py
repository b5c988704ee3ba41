"""How-to: the same call sites as Sentry's wrapper, with the import swapped."""

from __future__ import annotations

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import GroupHash


def ids_and_hashes_by_state(project_id: int) -> list[int]:
    # Sentry's idiom for a non-unique column: values_list, a getter for the
    # key, and the safety check overridden. rangeqs appends the pk as a
    # tie-breaker, so rows sharing a state are neither skipped nor repeated.
    queryset = GroupHash.objects.filter(project_id=project_id).values_list(
        "id", "state"
    )
    wrapper = RangeQuerySetWrapper(
        queryset,
        step=1000,
        order_by="state",
        override_unique_safety_check=True,
        result_value_getter=lambda item: item[1],
    )
    return [grouphash_id for grouphash_id, _state in wrapper]


def ids_from(project_id: int, min_id: int) -> list[int]:
    # min_id is an inclusive start on a single key, as in Sentry.
    queryset = GroupHash.objects.filter(project_id=project_id)
    return [grouphash.id for grouphash in RangeQuerySetWrapper(queryset, min_id=min_id)]


def ids_by_date_added(project_id: int) -> list[int]:
    # As Sentry's deletion helpers call it: the flag is accepted, and the
    # compound key is compared as a whole with or without it.
    queryset = GroupHash.objects.filter(project_id=project_id).values_list(
        "id", "date_added"
    )
    wrapper = RangeQuerySetWrapper(
        queryset,
        step=1000,
        order_by=["date_added", "id"],
        use_compound_keyset_pagination=True,
        result_value_getter=lambda item: {"id": item[0], "date_added": item[1]},
        query_timeout_retries=10,
    )
    return [grouphash_id for grouphash_id, _date_added in wrapper]


def delete_hashes_of_project(project_id: int, *, step: int = 1000) -> int:
    # In the place of Sentry's bulk_delete_objects(GroupHash, project_id=...):
    # one bounded page of ids, then one DELETE of exactly those ids.
    ids = GroupHash.objects.filter(project_id=project_id).values_list("id", flat=True)
    deleted = 0
    for batch in RangeQuerySetWrapper(ids, step=step).batches():
        deleted += GroupHash.objects.filter(id__in=batch).delete()[0]
    return deleted
