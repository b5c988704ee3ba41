"""The Seer deletion task of the seed, written with Django's Tasks framework.

``call_delete_seer_grouping_records_by_hash`` walks the hashes of a list of
groups with :class:`~rangeqs.RangeQuerySetWrapper` and enqueues
``delete_seer_grouping_records_by_hash`` with each batch. The walk keeps the
tenant filter (``project_id``) and orders by ``(group_id, id)`` with the
partition plan, so that every page reads only the rows it returns through the
``(group_id, id)`` index; under the seed's ``ORDER BY id`` a page either
sorts every remaining row of the groups or scans past other groups' rows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Count
from django.utils.module_loading import import_string

from rangeqs import RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import Group, GroupHash

try:
    from django.tasks import task
except ImportError:  # Django < 6.0: the django-tasks backport
    from django_tasks import task  # type: ignore[no-redef]

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

__all__ = [
    "RANGEQS_WALK",
    "SEED_OPTION_1_WALK",
    "SEED_WALK",
    "DeletionRun",
    "HashWalk",
    "call_delete_seer_grouping_records_by_hash",
    "delete_seer_grouping_records_by_hash",
    "schedule_seer_deletions",
]

logger = logging.getLogger("rangeqs.examples.grouphash")

DEFAULT_SEER_CLIENT = "rangeqs.examples.grouphash.seer.log_seer_deletion"
DEFAULT_BATCH_SIZE = 100
# Stays under every backend's bind-parameter limit (SQLite builds before 3.32
# allow 999) while keeping the project lookup to a few queries.
GROUP_LOOKUP_CHUNK = 10_000


@dataclass(frozen=True)
class HashWalk:
    """How the hashes are walked: the keyset order, the wrapper's plan, and
    whether the tenant filter stays (only the demo's replay of the seed's
    Option 1 drops it)."""

    order_by: tuple[str, ...]
    plan: Literal["plain", "partition", "merge", "auto"]
    tenant_filter: bool = True


# The fix: per-group keyset pages on the (group_id, id) index, no sort.
RANGEQS_WALK = HashWalk(order_by=("group_id", "id"), plan="partition")
# The seed's shapes, kept for the demo: global id order over an IN list,
# which the databases answer by sorting the remaining matching rows per page
# (or, with the tenant filter, by reading the whole project in id order).
SEED_WALK = HashWalk(order_by=("id",), plan="plain")
SEED_OPTION_1_WALK = HashWalk(order_by=("id",), plan="plain", tenant_filter=False)


@dataclass(frozen=True)
class DeletionRun:
    """What one call scheduled, as logged."""

    groups: int
    missing_groups: int
    project_id: int | None
    hashes: int
    batches: int
    queries: int
    seconds: float
    #: The slowest page, the one that would time out first (the seed's pages
    #: grow with the set).
    slowest_page_seconds: float
    plan: str


@task()
def delete_seer_grouping_records_by_hash(
    project_id: int, hashes: list[str], last_deleted_index: int = 0
) -> None:
    """Send ``hashes[last_deleted_index:]`` to Seer for deletion."""
    if not 0 <= last_deleted_index <= len(hashes):
        raise ValueError(
            f"last_deleted_index={last_deleted_index} is outside the {len(hashes)} "
            f"hashes: pass an index from 0 to {len(hashes)}."
        )
    seer_client()(project_id, hashes[last_deleted_index:])


def seer_client() -> Callable[[int, list[str]], None]:
    """The callable named by setting ``RANGEQS_GROUPHASH_SEER_CLIENT``."""
    path = getattr(settings, "RANGEQS_GROUPHASH_SEER_CLIENT", DEFAULT_SEER_CLIENT)
    try:
        client: Callable[[int, list[str]], None] = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"RANGEQS_GROUPHASH_SEER_CLIENT={path!r} cannot be imported: set it to "
            f"the dotted path of a callable(project_id, hashes)."
        ) from exc
    return client


def call_delete_seer_grouping_records_by_hash(
    group_ids: Iterable[int], *, batch_size: int | None = None
) -> int:
    """Enqueue the Seer deletion of every hash of ``group_ids``, in batches.

    The groups must belong to one project; ids of groups that no longer exist
    are skipped (a retried deletion finds its groups gone). Returns the number
    of hashes scheduled.
    """
    return schedule_seer_deletions(group_ids, batch_size=batch_size).hashes


def schedule_seer_deletions(
    group_ids: Iterable[int],
    *,
    batch_size: int | None = None,
    walk: HashWalk = RANGEQS_WALK,
    using: str = "default",
) -> DeletionRun:
    """The body of :func:`call_delete_seer_grouping_records_by_hash`, with the
    walk as a parameter so that the demo can run the seed's shape too."""
    if batch_size is None:
        batch_size = getattr(
            settings, "RANGEQS_GROUPHASH_DELETE_BATCH_SIZE", DEFAULT_BATCH_SIZE
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"batch_size={batch_size!r} is not a positive integer: pass one, or set "
            f"RANGEQS_GROUPHASH_DELETE_BATCH_SIZE to one."
        )
    started = time.perf_counter()
    unique_group_ids = sorted(set(group_ids))
    project_id, found_groups, lookup_queries = _project_of(unique_group_ids, using)
    hashes = batches = walk_queries = 0
    slowest_page = 0.0
    plan: str = walk.plan
    if project_id is not None:
        queryset = GroupHash.objects.using(using).filter(group_id__in=unique_group_ids)
        if walk.tenant_filter:
            queryset = queryset.filter(project_id=project_id)
        wrapper = RangeQuerySetWrapper(
            queryset.values_list("hash", flat=True),
            step=batch_size,
            order_by=walk.order_by,
            plan=walk.plan,
        )
        for batch, page_seconds in _timed(wrapper.batches()):
            slowest_page = max(slowest_page, page_seconds)
            delete_seer_grouping_records_by_hash.enqueue(project_id, list(batch))
            hashes += len(batch)
            batches += 1
        walk_queries = wrapper.queries
        plan = wrapper.plan
    run = DeletionRun(
        groups=len(unique_group_ids),
        missing_groups=len(unique_group_ids) - found_groups,
        project_id=project_id,
        hashes=hashes,
        batches=batches,
        queries=lookup_queries + walk_queries,
        seconds=round(time.perf_counter() - started, 6),
        slowest_page_seconds=round(slowest_page, 6),
        plan=plan,
    )
    logger.info(
        "seer grouping records deletion scheduled: groups=%d missing_groups=%d "
        "project_id=%s hashes=%d batches=%d queries=%d seconds=%.3f "
        "slowest_page_seconds=%.4f plan=%s",
        run.groups,
        run.missing_groups,
        run.project_id,
        run.hashes,
        run.batches,
        run.queries,
        run.seconds,
        run.slowest_page_seconds,
        run.plan,
        extra={"grouphash_deletion": run.__dict__},
    )
    return run


def _timed(batches: Iterator[list[str]]) -> Iterator[tuple[list[str], float]]:
    """Each batch with the seconds its fetch took."""
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        if batch is None:
            return
        yield batch, time.perf_counter() - started


def _project_of(group_ids: Sequence[int], using: str) -> tuple[int | None, int, int]:
    """The one project of ``group_ids``, how many of them exist, and the number
    of queries it took; ValueError when they span several projects."""
    chunk_size = min(
        connections[using].features.max_query_params or GROUP_LOOKUP_CHUNK,
        GROUP_LOOKUP_CHUNK,
    )
    groups_per_project: dict[int, int] = {}
    queries = 0
    for start in range(0, len(group_ids), chunk_size):
        rows = (
            Group.objects.using(using)
            .filter(id__in=group_ids[start : start + chunk_size])
            .values_list("project_id")
            .annotate(groups=Count("id"))
            .order_by()
        )
        queries += 1
        for project_id, count in rows:
            groups_per_project[project_id] = (
                groups_per_project.get(project_id, 0) + count
            )
    if len(groups_per_project) > 1:
        projects = ", ".join(str(p) for p in sorted(groups_per_project))
        raise ValueError(
            f"The groups belong to several projects ({projects}): call "
            f"call_delete_seer_grouping_records_by_hash once per project."
        )
    for project_id, count in groups_per_project.items():
        return project_id, count, queries
    return None, 0, queries
