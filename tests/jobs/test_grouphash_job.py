"""The GroupHash Seer deletion as a job: inline, and over two Celery workers."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings

from rangeqs.examples.grouphash.jobs import create_seer_deletion_job
from rangeqs.jobs import start
from rangeqs.jobs.models import Job, Status
from tests.grouphash.factories import GroupFactory, GroupHashFactory
from tests.grouphash.seer_clients import RECORDING_SEER_CLIENT, recording_seer_client
from tests.jobs.workers import wait_for, worker

if TYPE_CHECKING:
    from pathlib import Path

    from rangeqs.examples.grouphash.models import Group


def make_groups() -> tuple[list[Group], set[str]]:
    project = GroupFactory.create().project
    listed = GroupFactory.create_batch(6, project=project)
    hashes: set[str] = set()
    for group in listed:
        hashes.update(h.hash for h in GroupHashFactory.create_batch(7, group=group))
    # Another group of the project, and a group of another project: not sent.
    GroupHashFactory.create_batch(3, group=GroupFactory.create(project=project))
    GroupHashFactory.create_batch(3, group=GroupFactory.create())
    return listed, hashes


@pytest.mark.django_db
def test_the_seer_deletion_job_sends_every_hash_of_the_groups_once_inline() -> None:
    listed, hashes = make_groups()
    recording_seer_client.reset()
    job = create_seer_deletion_job(
        [group.pk for group in listed],
        parts=3,
        batch_size=5,
        seer_client_path=RECORDING_SEER_CLIENT,
    )
    assert job is not None
    assert job.ranges.count() == 3
    start(job, progress=False)
    assert job.status == Status.DONE
    assert Counter(recording_seer_client.sent) == Counter(hashes)
    assert {project for project, _ in recording_seer_client.calls} == {
        listed[0].project_id
    }
    assert all(len(sent) <= 5 for _, sent in recording_seer_client.calls)
    recording_seer_client.reset()


@pytest.mark.django_db
def test_no_job_for_groups_that_are_gone() -> None:
    assert create_seer_deletion_job([12345], parts=2) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the in-memory SQLite test database cannot be shared with worker processes",
)
def test_the_seer_deletion_job_fans_out_over_two_celery_workers(
    celery_app: Any, queue: str, tmp_path: Path
) -> None:
    listed, hashes = make_groups()
    sent_file = tmp_path / "seer.txt"
    job = create_seer_deletion_job(
        [group.pk for group in listed],
        parts=4,
        batch_size=3,
        runner="celery",
        queue=queue,
        budget_seconds=0.2,
        seer_client_path="tests.jobs.handlers.seer_to_file",
    )
    assert job is not None
    env = {"RANGEQS_TEST_SEER_FILE": str(sent_file)}
    with (
        worker("celery", queue=queue, env=env) as one,
        worker("celery", queue=queue, env=env) as two,
    ):
        start(job)
        wait_for(
            lambda: Job.objects.get(pk=job.pk).status == Status.DONE,
            what="two workers to finish the deletion",
            workers=[one, two],
        )
    sent: Counter[str] = Counter()
    for line in sent_file.read_text().splitlines():
        _project, *batch = line.split()
        sent.update(batch)
    assert sent == Counter(hashes)
    ranges_run_by: Any = job.ranges.values_list("status", flat=True)
    assert set(ranges_run_by) == {Status.DONE}
