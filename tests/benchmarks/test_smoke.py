"""Each benchmark at a tiny size on the test database: it runs, yields every
row, and prints well-formed tables. Never timings: those are the benchmark's
job, on a full-size table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connection

if TYPE_CHECKING:
    from benchmarks.report import Table

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the benchmarks measure PostgreSQL (EXPLAIN BUFFERS, generate_series)",
    ),
    pytest.mark.django_db(transaction=True),
]


def _assert_well_formed(table: Table) -> None:
    assert table.rows
    assert all(len(row) == len(table.columns) for row in table.rows)


def _table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        row = cursor.fetchone()
    assert row is not None
    return bool(row[0])


def test_core_measures_every_strategy_over_all_rows() -> None:
    from benchmarks.core import CoreOptions, run_core

    result = run_core(connection, CoreOptions(rows=3000, step=1000, repeat=1))

    passes, buffers = result.tables
    for table in result.tables:
        _assert_well_formed(table)
    assert [row[:2] for row in passes.rows] == [
        ["QuerySet.iterator()", "3,000"],
        ["RangeQuerySetWrapper, pk", "3,000"],
        ["RangeQuerySetWrapper, (a, pk)", "3,000"],
        ["keyset loop by hand, pk", "3,000"],
    ]
    # One cursor; three pages of 1,000 and at most one query that finds the end.
    assert [row[2] in {"3", "4"} for row in passes.rows] == [False, True, True, True]
    assert passes.rows[0][2] == "1"
    assert [row[:2] for row in buffers.rows] == [["pk", "3"], ["(a, pk)", "3"]]
    assert all(target.measured is not None for target in result.targets)
    assert len(result.targets) == 3


def test_core_drops_its_table_afterwards() -> None:
    from benchmarks.core import CoreOptions, run_core

    run_core(connection, CoreOptions(rows=1000, step=500, repeat=1))

    assert not _table_exists("rangeqs_bench_item")


def test_keep_reuses_a_table_of_the_same_size_and_regenerates_another() -> None:
    from benchmarks.core import CoreOptions, run_core

    try:
        runs = [
            run_core(connection, CoreOptions(rows=rows, step=500, repeat=1, keep=True))
            for rows in (1000, 1000, 1500)
        ]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS rangeqs_bench_item")

    assert ["reused" in run.tables[0].notes[-1] for run in runs] == [False, True, False]
    assert [run.tables[0].rows[0][1] for run in runs] == ["1,000", "1,000", "1,500"]


def test_the_generation_note_says_how_much_of_the_table_shared_buffers_holds() -> None:
    from benchmarks.core import CoreOptions, run_core
    from benchmarks.report import format_bytes

    try:
        result = run_core(
            connection, CoreOptions(rows=3000, step=1000, repeat=1, keep=True)
        )
        with connection.cursor() as cursor:
            # The index relations one by one, not pg_indexes_size; every
            # fork, as the table is unlogged and its indexes have init forks.
            cursor.execute(
                "SELECT pg_relation_size('rangeqs_bench_item'),"
                " (SELECT sum(pg_total_relation_size(indexrelid)) FROM pg_index"
                "  WHERE indrelid = 'rangeqs_bench_item'::regclass)"
            )
            row = cursor.fetchone()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS rangeqs_bench_item")
    assert row is not None
    table_bytes, index_bytes = row

    note = result.tables[0].notes[-1]
    assert f"It takes {format_bytes(table_bytes)}, " in note
    assert f"its indexes {format_bytes(index_bytes)};" in note
    # 3,000 rows fit in any server's shared_buffers.
    assert note.endswith("holds all of them.")


def test_a_table_larger_than_shared_buffers_is_reported_with_the_share_held() -> None:
    from benchmarks.report import generation_note
    from benchmarks.schema import Footprint

    size = Footprint(table_bytes=300, index_bytes=100, shared_buffers_bytes=100)

    assert size.cached_share == 0.25
    assert "holds 25% of them: " in generation_note(10, 1.0, size)
    assert Footprint(1, 1, 8192).cached_share == 1.0


def test_inlist_measures_the_plans_on_both_sets() -> None:
    from benchmarks.inlist import InListOptions, run_inlist

    result = run_inlist(
        connection,
        InListOptions(
            rows=21_000,
            steps=(100,),
            sets=("dense", "sparse"),
            strategies=("iterator", "plain", "merge", "partition", "auto"),
        ),
    )

    _legend, dense, sparse = result.tables
    for table in result.tables:
        _assert_well_formed(table)
    # Sparse: every id with id % 100 = 1; dense: id % 21 = 0 minus those.
    assert dense.title.startswith("dense set: 990 rows in 100 groups")
    assert sparse.title.startswith("sparse set: 210 rows in 100 groups")
    assert [row[2] for row in dense.rows] == ["990"] * 5
    assert [row[2] for row in sparse.rows] == ["210"] * 5
    assert not dense.notes
    assert not sparse.notes
    assert [target.name for target in result.targets] == [
        "dense, step 100: partition / iterator() time",
        "sparse, step 100: partition / iterator() time",
        "sparse, step 100: plain / merge time",
    ]
    assert all(target.measured is not None for target in result.targets)
    assert not _table_exists("rangeqs_bench_grouphash")


def test_inlist_measures_the_sets_that_keep_the_tenant_filter() -> None:
    from benchmarks.inlist import InListOptions, run_inlist

    result = run_inlist(
        connection,
        InListOptions(
            rows=21_000,
            steps=(100, 1000),
            sets=("dense-project", "sparse-project"),
            strategies=("iterator", "plain", "auto-grouped"),
        ),
    )

    _legend, dense, sparse = result.tables
    for table in result.tables:
        _assert_well_formed(table)
    # Every listed group is project 1's: the tenant filter keeps every row.
    assert dense.title.startswith("dense-project set: 990 rows in 100 groups")
    assert sparse.title.startswith("sparse-project set: 210 rows in 100 groups")
    assert "project_id = 1" in dense.title
    assert [row[2] for row in dense.rows] == ["990"] * 6
    assert [row[2] for row in sparse.rows] == ["210"] * 6
    assert [row[1] for row in dense.rows[:3]] == [
        "iterator",
        "plain",
        "auto-grouped (partition)",
    ]
    assert not dense.notes
    assert not sparse.notes
    assert [target.name for target in result.targets] == [
        f"{name}, step {step}: auto-grouped {what}"
        for name in ("dense-project", "sparse-project")
        for step in (100, 1000)
        for what in (
            "/ iterator() time",
            "last / first page buffers",
            "costliest page buffers / step",
        )
    ] + ["sparse-project, step 100: plain / auto-grouped time"]
    assert all(target.measured is not None for target in result.targets)


def test_inlist_reports_a_partial_rate_when_stopped_by_max_seconds() -> None:
    from benchmarks.inlist import InListOptions, run_inlist

    result = run_inlist(
        connection,
        InListOptions(
            rows=21_000,
            steps=(100,),
            sets=("dense",),
            strategies=("iterator", "plain"),
            max_seconds=0,
        ),
    )

    dense = result.tables[1]
    # The clock is read every 100 rows, so the pass stops at the first look.
    assert [row[2] for row in dense.rows] == ["100 (partial)", "100 (partial)"]


def test_inlist_runs_the_other_tools_or_reports_them_not_installed() -> None:
    from benchmarks.inlist import InListOptions, run_inlist

    result = run_inlist(
        connection,
        InListOptions(
            rows=2_100,
            steps=(1000,),
            sets=("dense",),
            strategies=("iterator", "chunkator", "keyset-pagination-plus"),
            repeat=2,
        ),
    )

    dense = result.tables[1]
    # They are installed only in the benchmark's own environment (tox -e bench).
    assert dense.rows[0][2] == "99"
    for row in dense.rows[1:]:
        assert row[2] in {"99", "not run (below)"}
    assert len(dense.notes) == [row[2] for row in dense.rows].count("not run (below)")
    assert all("not installed" in note for note in dense.notes)


def test_render_prints_aligned_markdown_tables() -> None:
    from benchmarks.core import CoreOptions, run_core

    text = run_core(connection, CoreOptions(rows=1000, step=500, repeat=1)).render()

    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    assert table_lines
    for block in text.split("### ")[1:]:
        lines = [line for line in block.splitlines() if line.startswith("|")]
        assert len({len(line) for line in lines}) == 1
    assert "| PASS" in text or "| FAIL" in text


def test_command_exits_1_with_check_exactly_when_a_target_fails() -> None:
    # A separate process: the command configures Django itself, and starts
    # (and deletes) its own embedded server.
    command = ["core", "--rows", "2000", "--repeat", "1", "--check"]
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", *command],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert "### Targets" in completed.stdout, completed.stderr
    assert completed.returncode == (1 if "| FAIL" in completed.stdout else 0)


@pytest.mark.parametrize("group_rows", [1, 50])
def test_inlist_background_groups_have_the_rows_asked_for(group_rows: int) -> None:
    from functools import partial

    from benchmarks.datagen import SPARSE_GROUPS, load_grouphashes
    from benchmarks.models import BenchGroupHash
    from benchmarks.schema import prepared_table

    load = partial(load_grouphashes, background_group_rows=group_rows)
    with prepared_table(connection, BenchGroupHash, rows=20_000, load=load):
        background = BenchGroupHash.objects.filter(group_id__gt=SPARSE_GROUPS[-1])
        rows = background.count()
        group_count = background.values("group_id").distinct().count()

    # The target sets take about 6 % of the rows: the rest keep close to the
    # asked average, and one row per group is exact.
    assert rows > 18_000
    assert 0.9 * group_rows <= rows / group_count <= group_rows
    assert (rows == group_count) is (group_rows == 1)


def test_keep_regenerates_the_grouphash_table_for_another_group_size() -> None:
    from benchmarks.inlist import InListOptions, run_inlist

    try:
        runs = [
            run_inlist(
                connection,
                InListOptions(
                    rows=2_100,
                    sets=("sparse",),
                    steps=(100,),
                    strategies=("iterator",),
                    keep=True,
                    background_group_rows=group_rows,
                ),
            )
            for group_rows in (1, 1, 50)
        ]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS rangeqs_bench_grouphash")

    assert ["reused" in run.tables[0].notes[-1] for run in runs] == [False, True, False]


def test_inlist_ratios_to_iterator_come_from_paired_passes() -> None:
    from benchmarks.inlist import InListOptions, run_inlist

    result = run_inlist(
        connection,
        InListOptions(
            rows=2_100,
            steps=(100,),
            sets=("dense",),
            strategies=("iterator", "plain", "partition"),
            repeat=3,
        ),
    )

    dense = result.tables[1]
    ratios = {row[1]: row[6] for row in dense.rows}
    assert ratios["iterator"] == "1.00x"
    # The median of three rounds, each against the iterator() pass just
    # before it, and the range of the three.
    for name in ("plain", "partition"):
        median, low, high = (
            float(number) for number in re.findall(r"\d+\.\d+", ratios[name])
        )
        assert re.fullmatch(r"\d+\.\d\dx \(\d+\.\d\d-\d+\.\d\d\)", ratios[name])
        assert low <= median <= high
    (target,) = result.targets
    assert target.measured is not None
    assert f"{target.measured:.2f}x" == ratios["partition"].split()[0]
