"""Operating jobs: ``manage.py rangeqs_jobs``, the admin, the progress bar."""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest
from django.contrib.admin import AdminSite
from django.core.management import CommandError, call_command

from rangeqs.jobs import create_job, run_inline
from rangeqs.jobs.admin import JobAdmin
from rangeqs.jobs.models import Job, Status
from tests.jobs.models import Item, Processed

pytestmark = pytest.mark.django_db

ITEMS = "tests.jobs.handlers.item_ids"
RECORD = "tests.jobs.handlers.record_in_database"


@pytest.fixture
def job() -> Job:
    Item.objects.bulk_create(Item(number=index) for index in range(30))
    return create_job(queryset=ITEMS, handler=RECORD, parts=3, step=4, name="backfill")


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("rangeqs_jobs", *args, stdout=out)
    return out.getvalue()


def test_list_shows_rows_done_per_job_and_range(job: Job) -> None:
    run_inline(job, progress=False)
    report = json.loads(command("list", "--json"))
    (listed,) = report
    assert (listed["job_id"], listed["status"], listed["rows"]) == (job.pk, "done", 30)
    assert [part["rows"] for part in listed["ranges"]] == list(
        job.ranges.order_by("index").values_list("rows", flat=True)
    )
    table = command("list", "--ranges")
    assert "backfill" in table
    assert table.count("done") == 4


def test_pause_resume_and_cancel_from_the_command_line(job: Job) -> None:
    assert command("pause", str(job.pk)).strip().endswith("paused")
    run_inline(job, progress=False)
    assert Processed.objects.count() == 0
    assert command("resume", str(job.pk), "--no-progress").strip().endswith("done")
    assert Counter(Processed.objects.values_list("item_id", flat=True)) == Counter(
        Item.objects.values_list("pk", flat=True)
    )
    assert command("cancel", str(job.pk)).strip().endswith("cancelled")


def test_retry_gives_failed_ranges_new_attempts(job: Job) -> None:
    job.ranges.filter(index=1).update(status=Status.FAILED, attempts=3)
    Job.objects.filter(pk=job.pk).update(status=Status.FAILED)
    command("run", str(job.pk), "--no-progress")
    job.refresh_from_db()
    assert job.ranges.get(index=1).rows == 0
    assert command("retry", str(job.pk), "--no-progress").strip().endswith("done")
    assert Processed.objects.count() == 30


def test_an_unknown_job_is_an_error() -> None:
    with pytest.raises(CommandError, match="rangeqs_jobs list"):
        command("pause", "999")
    with pytest.raises(CommandError, match="job id"):
        command("pause")


def test_the_admin_shows_progress_and_pauses_and_resumes(job: Job) -> None:
    admin = JobAdmin(Job, AdminSite())
    assert admin.check() == []
    assert (
        admin.rows_done(job)
        == f"0 of ~{sum(job.ranges.values_list('estimated_rows', flat=True))}"
    )
    admin.pause_jobs(None, Job.objects.filter(pk=job.pk))  # type: ignore[arg-type]
    job.refresh_from_db()
    assert job.status == Status.PAUSED
    # An inline job is not run inside a request: it stays paused.
    admin.resume_jobs(None, Job.objects.filter(pk=job.pk))  # type: ignore[arg-type]
    job.refresh_from_db()
    assert job.status == Status.PAUSED


def test_an_inline_run_draws_a_progress_bar_when_asked(
    job: Job, capsys: pytest.CaptureFixture[str]
) -> None:
    run_inline(job, progress=True)
    err = capsys.readouterr().err
    assert "30/30" in err
