"""Jobs on real worker processes: Celery on the machine's Redis, and
django-tasks-db's ``db_worker``. A worker is killed with SIGKILL inside a
batch (its handler's effects done, its checkpoint not saved) and a second
worker finishes the job from the checkpoints.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings

from rangeqs.jobs import create_job, resume, start
from rangeqs.jobs.models import Job, Status
from tests.jobs.models import Item, Processed
from tests.jobs.workers import wait_for, worker

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
        reason="the in-memory SQLite test database cannot be shared with worker "
        "processes; these tests run on PostgreSQL and MariaDB",
    ),
]

KINDS = ["celery", "tasks"]


@pytest.fixture
def items() -> list[int]:
    Item.objects.bulk_create(Item(number=index, group=index % 4) for index in range(60))
    return list(Item.objects.order_by("pk").values_list("pk", flat=True))


def make_job(kind: str, queue: str, **options: Any) -> Job:
    return create_job(
        queryset="tests.jobs.handlers.item_ids",
        runner="celery" if kind == "celery" else "tasks",
        task_backend="db",
        queue=queue,
        parts=3,
        step=4,
        # Short tasks: each range re-enqueues itself several times.
        budget_seconds=0.2,
        **options,
    )


def run_with_a_killed_worker(kind: str, job: Job, queue: str, tmp_path: Path) -> None:
    """Start the job on worker A, which hangs inside its 4th batch; kill A with
    SIGKILL there, resume the job and let worker B finish it."""
    marker = tmp_path / "hanging"
    hang = {
        "RANGEQS_TEST_HANG_AT_BATCH": "4",
        "RANGEQS_TEST_HANG_MARKER": str(marker),
    }
    with worker(kind, queue=queue, env=hang) as first:
        start(job)
        wait_for(marker.exists, what="worker A to reach its 4th batch", workers=[first])
        first.kill()
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    with worker(kind, queue=queue) as second:
        resume(job)
        wait_for(
            lambda: Job.objects.get(pk=job.pk).status == Status.DONE,
            what="worker B to finish the job",
            workers=[second],
        )
    job.refresh_from_db()


@pytest.mark.parametrize("kind", KINDS)
def test_a_database_only_handler_runs_exactly_once_across_a_killed_worker(
    kind: str,
    request: pytest.FixtureRequest,
    queue: str,
    items: list[int],
    tmp_path: Path,
) -> None:
    if kind == "celery":
        request.getfixturevalue("celery_app")
    job = make_job(kind, queue, handler="tests.jobs.handlers.record_in_database")

    run_with_a_killed_worker(kind, job, queue, tmp_path)

    handled = Counter(Processed.objects.values_list("item_id", flat=True))
    assert handled == Counter(items)
    assert sum(job.ranges.values_list("rows", flat=True)) == len(items)


@pytest.mark.parametrize("kind", KINDS)
def test_an_outside_effect_handler_runs_at_least_once_with_the_same_batch_keys(
    kind: str,
    request: pytest.FixtureRequest,
    queue: str,
    items: list[int],
    tmp_path: Path,
) -> None:
    if kind == "celery":
        request.getfixturevalue("celery_app")
    effects = tmp_path / "effects.txt"
    job = make_job(
        kind,
        queue,
        handler="tests.jobs.handlers.record_outside",
        handler_kwargs={"path": str(effects)},
        effects="outside",
    )

    run_with_a_killed_worker(kind, job, queue, tmp_path)

    batches: dict[str, list[list[int]]] = {}
    for line in effects.read_text().splitlines():
        key, *pks = line.split()
        batches.setdefault(key, []).append([int(pk) for pk in pks])
    sent = Counter(pk for tries in batches.values() for pk in tries[0])
    # Each batch key names the same rows every time it is sent...
    assert all(tries == [tries[0]] * len(tries) for tries in batches.values())
    # ...the batch in flight when worker A died was sent again...
    assert [len(tries) for tries in batches.values()].count(2) == 1
    # ...and apart from that, every row was sent once.
    assert sent == Counter(items)
    assert sum(job.ranges.values_list("rows", flat=True)) == len(items)
