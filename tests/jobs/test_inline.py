"""Jobs run inline: every row once, checkpoints, failures, pause and resume."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from rangeqs.jobs import (
    cancel,
    create_job,
    pause,
    progress,
    resume,
    retry_failed,
    run_inline,
)
from rangeqs.jobs.models import Job, JobRange, Status
from tests.jobs.models import Item, Processed

pytestmark = pytest.mark.django_db

ITEMS = "tests.jobs.handlers.item_ids"
RECORD = "tests.jobs.handlers.record_in_database"


@pytest.fixture
def items() -> list[int]:
    Item.objects.bulk_create(Item(number=index, group=index % 5) for index in range(60))
    return list(Item.objects.order_by("pk").values_list("pk", flat=True))


def handled() -> Counter[int]:
    return Counter(Processed.objects.values_list("item_id", flat=True))


def test_an_inline_job_hands_every_row_once_over_its_ranges(items: list[int]) -> None:
    job = create_job(queryset=ITEMS, handler=RECORD, parts=4, step=7)
    assert job.ranges.count() == 4

    run_inline(job)

    assert job.status == Status.DONE
    assert handled() == Counter(items)
    assert sum(job.ranges.values_list("rows", flat=True)) == 60
    # Each range's batches carry keys no other batch has.
    keys = Processed.objects.values_list("batch_key", flat=True).distinct()
    assert len(set(keys)) == sum(job.ranges.values_list("batches", flat=True))


def test_a_compound_descending_walk_with_a_filter_is_split_and_run(
    items: list[int],
) -> None:
    job = create_job(
        queryset=ITEMS,
        queryset_kwargs={"low": 10},
        handler=RECORD,
        order_by=("-group", "-id"),
        parts=3,
        step=4,
    )
    run_inline(job)
    assert handled() == Counter(items[10:])
    order = list(Processed.objects.order_by("pk").values_list("item_id", flat=True))
    expected = list(
        Item.objects.filter(number__gte=10)
        .order_by("-group", "-id")
        .values_list("pk", flat=True)
    )
    assert order == expected


def test_a_job_over_no_rows_is_done_at_once() -> None:
    job = create_job(queryset=ITEMS, handler=RECORD, parts=3)
    assert job.status == Status.DONE
    assert job.ranges.count() == 0


def test_a_job_resumes_from_its_checkpoints(items: list[int]) -> None:
    job = create_job(queryset=ITEMS, handler=RECORD, parts=2, step=5)
    first = job.ranges.get(index=0)
    # As if a worker had finished two batches of the first range and died.
    from rangeqs.jobs import run_range

    calls = iter(range(100))
    outcome = run_range(first.pk, budget_seconds=1.5, clock=lambda: float(next(calls)))
    assert outcome.more
    first.refresh_from_db()
    assert first.rows == 5
    run_inline(job)
    assert handled() == Counter(items)


def test_a_failed_batch_is_retried_with_a_smaller_step(items: list[int]) -> None:
    job = create_job(
        queryset=ITEMS,
        handler="tests.jobs.handlers.fail_on_big_batches",
        handler_kwargs={"max_rows": 5},
        step=20,
        max_attempts=3,
    )
    run_inline(job)
    job_range = job.ranges.get()
    assert job.status == Status.DONE
    assert handled() == Counter(items)
    # 20 fails, 10 fails, 5 passes; the failed tries left nothing behind.
    assert job_range.failures == 2
    assert job_range.step == 5


def test_a_failed_range_does_not_stop_the_others(items: list[int]) -> None:
    poisoned = items[3]
    job = create_job(
        queryset=ITEMS,
        handler="tests.jobs.handlers.fail_on_item",
        handler_kwargs={"pk": poisoned},
        parts=3,
        step=4,
        max_attempts=2,
    )
    run_inline(job)
    statuses = list(job.ranges.order_by("index").values_list("status", flat=True))
    assert statuses == [Status.FAILED, Status.DONE, Status.DONE]
    assert job.status == Status.FAILED
    failed = job.ranges.get(index=0)
    assert "poisoned row" in failed.last_error
    assert poisoned not in handled()
    done_items = {
        pk for r in job.ranges.filter(status=Status.DONE) for pk in _range_items(job, r)
    }
    assert set(handled()) >= done_items

    retry_failed(job, progress=False)
    # Still poisoned: it fails again, nothing is handled twice.
    assert max(handled().values()) == 1


def _range_items(job: Job, job_range: JobRange) -> list[int]:
    from rangeqs import RangeQuerySetWrapper
    from tests.jobs.handlers import item_ids

    return list(
        RangeQuerySetWrapper(
            item_ids(),
            order_by=job.order_by,
            after=job_range.after,
            until=job_range.until,
        )
    )


def test_a_paused_job_stops_and_resumes_where_it_stopped(items: list[int]) -> None:
    job = create_job(
        queryset=ITEMS,
        handler="tests.jobs.handlers.pause_after_first_batch",
        parts=2,
        step=10,
    )
    run_inline(job)
    assert job.status == Status.PAUSED
    assert Processed.objects.count() == 10

    resume(job, progress=False)
    assert job.status == Status.DONE
    assert handled() == Counter(items)


def test_a_cancelled_job_runs_no_more_batches(items: list[int]) -> None:
    job = create_job(queryset=ITEMS, handler=RECORD, parts=2, step=10)
    cancel(job)
    run_inline(job)
    assert Processed.objects.count() == 0
    assert set(job.ranges.values_list("status", flat=True)) == {Status.CANCELLED}


def test_progress_counts_rows_and_gives_an_eta(items: list[int]) -> None:
    job = create_job(queryset=ITEMS, handler=RECORD, parts=2, step=10)
    before = progress(job)
    assert (before.rows, before.eta_seconds) == (0, None)
    run_inline(job)
    after = progress(job)
    assert after.rows == 60
    assert after.eta_seconds == 0
    assert [part.rows for part in after.ranges] == list(
        job.ranges.order_by("index").values_list("rows", flat=True)
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("effects", "sometimes"),
        ("runner", "cron"),
        ("handler", "tests.jobs.handlers.nope"),
    ],
)
def test_bad_options_are_refused_before_anything_is_saved(
    option: str, value: Any
) -> None:
    options: dict[str, Any] = {"queryset": ITEMS, "handler": RECORD, option: value}
    with pytest.raises(
        Exception, match=option if option != "handler" else "cannot be imported"
    ):
        create_job(**options)
    assert Job.objects.count() == 0


def test_pause_before_a_run_keeps_every_range_at_its_start(items: list[int]) -> None:
    job = create_job(queryset=ITEMS, handler=RECORD, parts=2, step=10)
    pause(job)
    run_inline(job)
    assert job.status == Status.PAUSED
    assert Processed.objects.count() == 0
    resume(job, progress=False)
    assert handled() == Counter(items)


def test_the_tasks_runner_re_enqueues_each_range_until_it_ends(
    items: list[int],
) -> None:
    # The test settings' default backend runs each task as it is enqueued;
    # a zero budget makes every task run one batch and enqueue the next.
    job = create_job(
        queryset=ITEMS,
        handler=RECORD,
        parts=2,
        step=10,
        runner="tasks",
        task_backend="default",
        budget_seconds=0.0,
    )
    from rangeqs.jobs import start

    start(job)
    assert job.status == Status.DONE
    assert handled() == Counter(items)
    assert sum(job.ranges.values_list("batches", flat=True)) == 6


@pytest.fixture
def eager_celery() -> Any:
    celery = pytest.importorskip("celery")
    previous = celery.current_app._get_current_object()
    app = celery.Celery("rangeqs-jobs-eager", set_as_current=True)
    # Each task runs in the caller as it is sent, re-enqueued ones too.
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    import rangeqs.jobs.celery_tasks  # noqa: F401  (registers the task)

    yield app
    previous.set_current()
    app.close()


def test_the_celery_runner_re_enqueues_each_range_until_it_ends(
    items: list[int], eager_celery: Any
) -> None:
    job = create_job(
        queryset=ITEMS,
        handler=RECORD,
        parts=2,
        step=10,
        runner="celery",
        budget_seconds=0.0,
    )
    from rangeqs.jobs import start

    start(job)
    assert job.status == Status.DONE
    assert handled() == Counter(items)
    assert sum(job.ranges.values_list("batches", flat=True)) == 6
