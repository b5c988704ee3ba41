"""``benchmarks jobs`` at a tiny size: it runs the job over real worker
processes and prints well-formed tables. Never timings."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the benchmarks measure PostgreSQL (generate_series, VACUUM)",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_the_jobs_benchmark_runs_each_worker_count_and_each_table_size() -> None:
    from benchmarks.jobs import JobsOptions, run_jobs
    from benchmarks.models import BenchItem

    result = run_jobs(
        connection,
        JobsOptions(
            rows=3000,
            step=500,
            parts=4,
            workers=(1, 2),
            split_sizes=(500, 3000),
            repeat=1,
        ),
    )

    workers, splits = result.tables
    assert [row[0] for row in workers.rows] == ["1", "2"]
    assert workers.rows[0][3] == "1.00x"
    assert [row[0] for row in splits.rows] == ["500", "3,000"]
    # The histogram of the analyzed table, then one bounded query and one
    # estimate per range.
    assert {row[2] for row in splits.rows} == {str(1 + 2 * 8)}
    assert all(len(row) == len(splits.columns) for row in splits.rows)
    assert result.targets[0].measured is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NULL", [BenchItem._meta.db_table])
        assert cursor.fetchone() == (True,)
