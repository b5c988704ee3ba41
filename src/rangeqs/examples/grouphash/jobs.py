"""The Seer deletion of the seed as a rangeqs job, fanned out over workers.

``create_seer_deletion_job(group_ids, parts=N, runner="celery")`` records a
job over the hashes of the groups, split into N ranges of the same
``(group_id, id)`` walk that :mod:`rangeqs.examples.grouphash.tasks` uses
(the partition plan, the tenant filter kept); :func:`rangeqs.jobs.start`
then enqueues one task per range, and N workers delete at once. Each batch
is sent to Seer by :func:`send_batch_to_seer`.

Seer is an outside effect: a batch whose worker dies after the call and
before the checkpoint is sent again (at least once, under the same batch
key). Deleting a grouping record that is already gone is a no-op on Seer's
side, so the repeat is harmless; a client that cannot repeat a call keeps
the keys it has sent (``batch.key``) and skips them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

from rangeqs.examples.grouphash.models import GroupHash
from rangeqs.examples.grouphash.tasks import RANGEQS_WALK, _project_of, seer_client

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import QuerySet

    from rangeqs.jobs import Batch
    from rangeqs.jobs.models import Job

__all__ = ["create_seer_deletion_job", "hashes_of_groups", "send_batch_to_seer"]


def hashes_of_groups(
    *, project_id: int, group_ids: list[int]
) -> QuerySet[GroupHash, str]:
    """The hashes the job walks (the job stores this callable's dotted path
    and its JSON arguments, never the queryset itself)."""
    return GroupHash.objects.filter(
        project_id=project_id, group_id__in=group_ids
    ).values_list("hash", flat=True)


def send_batch_to_seer(batch: Batch) -> None:
    """The job's handler: one Seer call with the batch's hashes."""
    path = batch.options.get("seer_client")
    client: Any = import_string(path) if path else seer_client()
    client(batch.options["project_id"], list(batch.rows))


def create_seer_deletion_job(
    group_ids: Iterable[int],
    *,
    parts: int,
    batch_size: int = 100,
    runner: str = "inline",
    seer_client_path: str | None = None,
    **job_options: Any,
) -> Job | None:
    """A job deleting the Seer records of every hash of ``group_ids`` (one
    project), split into ``parts`` ranges; None when no group exists.

    ``job_options`` go to :func:`rangeqs.jobs.create_job` (``queue=``,
    ``target_seconds=``, ``throttle=`` ...).
    """
    from rangeqs.jobs import create_job  # noqa: PLC0415

    unique_group_ids = sorted(set(group_ids))
    project_id, _found, _queries = _project_of(unique_group_ids, "default")
    if project_id is None:
        return None
    handler_kwargs: dict[str, Any] = {"project_id": project_id}
    if seer_client_path:
        handler_kwargs["seer_client"] = seer_client_path
    return create_job(
        name=f"seer deletion: {len(unique_group_ids)} groups of project {project_id}",
        queryset="rangeqs.examples.grouphash.jobs.hashes_of_groups",
        queryset_kwargs={"project_id": project_id, "group_ids": unique_group_ids},
        order_by=RANGEQS_WALK.order_by,
        plan=RANGEQS_WALK.plan,
        handler="rangeqs.examples.grouphash.jobs.send_batch_to_seer",
        handler_kwargs=handler_kwargs,
        effects="outside",
        runner=runner,
        parts=parts,
        step=batch_size,
        **job_options,
    )
