"""How-to: the GroupHash Seer deletion with Celery instead of Django's Tasks.

The walk is the same as in ``rangeqs.examples.grouphash.tasks``; only the
task decorator and the enqueue call change (``@shared_task`` and ``.delay``).
"""

from __future__ import annotations

from celery import shared_task

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import Group, GroupHash
from rangeqs.examples.grouphash.tasks import seer_client


@shared_task(acks_late=True)
def delete_seer_grouping_records_by_hash(
    project_id: int, hashes: list[str], last_deleted_index: int = 0
) -> None:
    """Send ``hashes[last_deleted_index:]`` to Seer for deletion."""
    seer_client()(project_id, hashes[last_deleted_index:])


def call_delete_seer_grouping_records_by_hash(
    group_ids: list[int], *, batch_size: int = 100
) -> int:
    """Enqueue one Celery task per batch of at most ``batch_size`` hashes."""
    project_ids = set(
        Group.objects.filter(id__in=group_ids)
        .values_list("project_id", flat=True)
        .distinct()
    )
    if len(project_ids) > 1:
        raise ValueError(
            "The groups belong to several projects: call "
            "call_delete_seer_grouping_records_by_hash once per project."
        )
    if not project_ids:
        return 0
    [project_id] = project_ids
    # Keep the tenant filter; order by the IN column first so that the
    # (group_id, id) index serves every page with no sort.
    hashes = GroupHash.objects.filter(
        project_id=project_id, group_id__in=group_ids
    ).values_list("hash", flat=True)
    wrapper = RangeQuerySetWrapper(
        hashes, step=batch_size, order_by=("group_id", "id"), plan="partition"
    )
    scheduled = 0
    for batch in wrapper.batches():
        # Celery serialises the arguments as JSON: an int and a list of str.
        delete_seer_grouping_records_by_hash.delay(project_id, list(batch))
        scheduled += len(batch)
    return scheduled
