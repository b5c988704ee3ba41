"""Pacing: the adaptive step on a fake clock, the throttle hook and its built-ins."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from rangeqs.jobs import create_job, run_inline, run_range, throttles
from rangeqs.jobs.models import Status
from tests.jobs import handlers
from tests.jobs.models import Item, Processed

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.django_db

ITEMS = "tests.jobs.handlers.item_ids"


@pytest.fixture(autouse=True)
def clock() -> Iterator[handlers.FakeClock]:
    handlers.fake_clock = handlers.FakeClock()
    handlers.batch_sizes.clear()
    handlers.throttle_answers.clear()
    yield handlers.fake_clock
    handlers.batch_sizes.clear()


def paced_run(clock: handlers.FakeClock, rows: int, **options: Any) -> list[int]:
    Item.objects.bulk_create(Item(number=index) for index in range(rows))
    job = create_job(queryset=ITEMS, handler="tests.jobs.handlers.costly", **options)
    run_inline(job, clock=clock, sleep=clock.sleep, progress=False)
    assert job.status == Status.DONE
    assert Counter(Processed.objects.values_list("item_id", flat=True)) == Counter(
        Item.objects.values_list("pk", flat=True)
    )
    return list(handlers.batch_sizes)


def test_a_cost_proportional_to_the_rows_reaches_the_target_step_in_a_few_batches(
    clock: handlers.FakeClock,
) -> None:
    sizes = paced_run(
        clock,
        1500,
        step=10,
        max_step=1000,
        target_seconds=1.0,
        handler_kwargs={"per_row": 0.01},
    )
    # 10 rows take 0.1 s: the step doubles (at most 2x a batch) up to 100,
    # where a batch takes the 1 s target, and stays there.
    assert sizes[:5] == [10, 20, 40, 80, 100]
    assert set(sizes[4:-1]) == {100}


def test_a_fixed_cost_per_batch_still_converges_near_the_target(
    clock: handlers.FakeClock,
) -> None:
    sizes = paced_run(
        clock,
        1500,
        step=10,
        max_step=1000,
        target_seconds=1.0,
        handler_kwargs={"per_row": 0.01, "fixed": 0.2},
    )
    # 0.2 s + 0.01 s a row is 1 s at 80 rows.
    assert all(76 <= size <= 84 for size in sizes[6:-1]), sizes


def test_the_step_stays_within_its_bounds(clock: handlers.FakeClock) -> None:
    fast = paced_run(
        clock,
        300,
        step=10,
        max_step=25,
        target_seconds=1.0,
        handler_kwargs={"per_row": 0.001},
    )
    assert max(fast) == 25
    Processed.objects.all().delete()
    Item.objects.all().delete()
    handlers.batch_sizes.clear()
    slow = paced_run(
        clock,
        600,
        step=200,
        min_step=30,
        target_seconds=1.0,
        handler_kwargs={"per_row": 0.5},
    )
    assert slow[:4] == [200, 100, 50, 30]
    assert min(slow[:-1]) == 30


def test_without_a_target_the_step_is_fixed(clock: handlers.FakeClock) -> None:
    sizes = paced_run(clock, 50, step=7, handler_kwargs={"per_row": 1.0})
    assert sizes == [7] * 7 + [1]


def test_the_throttle_pauses_the_range_between_batches(
    clock: handlers.FakeClock,
) -> None:
    handlers.throttle_answers.extend([3.0, 3.0])
    sizes = paced_run(
        clock,
        20,
        step=10,
        throttle="tests.jobs.handlers.scripted_throttle",
        handler_kwargs={"per_row": 0.0},
    )
    assert clock.sleeps == [3.0, 3.0]
    assert sizes == [10, 10]


def test_a_wait_longer_than_the_budget_hands_the_range_back(
    clock: handlers.FakeClock,
) -> None:
    Item.objects.bulk_create(Item(number=index) for index in range(5))
    job = create_job(
        queryset=ITEMS,
        handler="tests.jobs.handlers.costly",
        handler_kwargs={"per_row": 0.0},
        throttle="tests.jobs.handlers.scripted_throttle",
    )
    handlers.throttle_answers.append(30.0)
    outcome = run_range(
        job.ranges.get().pk, budget_seconds=10.0, clock=clock, sleep=clock.sleep
    )
    assert (outcome.status, outcome.wait_seconds) == ("more", 30.0)
    assert clock.sleeps == []
    assert Processed.objects.count() == 0


BUILT_INS = {
    "postgresql": [
        (throttles.postgresql_replication_lag, "max_lag_seconds", -1, 10_000),
        (throttles.postgresql_active_backends, "max_active", -1, 10_000),
    ],
    "mysql": [(throttles.mariadb_threads_running, "max_running", 0, 10_000)],
    "sqlite": [],
}


def test_built_in_throttles_read_the_database_and_wait_past_their_threshold() -> None:
    checks = BUILT_INS[connection.vendor]
    if not checks:
        pytest.skip("no built-in throttle reads SQLite statistics")
    for throttle, option, busy, idle in checks:
        assert (
            throttle(connection=connection, **{option: busy}, wait_seconds=2.0) == 2.0
        )
        assert throttle(connection=connection, **{option: idle}) == 0.0


def test_a_throttle_for_another_database_is_refused() -> None:
    other = (
        throttles.mariadb_threads_running
        if connection.vendor == "postgresql"
        else throttles.postgresql_active_backends
    )
    with pytest.raises(ImproperlyConfigured, match="throttle"):
        other(connection=connection)
