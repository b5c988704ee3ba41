"""The demo, end to end at a small size, and its database URL parsing."""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from rangeqs.examples.grouphash.__main__ import DEFAULT_SETS, SET_NAMES, main
from rangeqs.examples.grouphash.datagen import TARGET_SETS, placement
from rangeqs.examples.grouphash.demo import PAGE_TIME_POINTS, WALKS, run_demo
from rangeqs.examples.grouphash.measure import PageTime, WalkMeasurement
from rangeqs.examples.grouphash.settings import database_from_url

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


REPO = Path(__file__).resolve().parents[2]
WALK_NAMES = [name for name, _walk in WALKS]
ROWS = 10_000
# At 10,000 rows: 4.7 % dense, 2 % sparse, 0.1 % rare.
SET_ROWS = {"dense": 470, "sparse": 200, "rare": 10}


def table_lines(output: str, title: str) -> list[list[str]]:
    """The rows of the table printed after the line starting with ``title``."""
    block = output.split(f"\n{title}", 1)[1].split("\n\n", 2)[1]
    return [
        [cell.strip() for cell in line.split("  ") if cell.strip()]
        for line in block.splitlines()
        if line.startswith(SET_NAMES)
    ]


@pytest.mark.django_db(transaction=True)
def test_demo_prints_each_page_time_the_totals_and_the_chart_of_both_walks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    chart = tmp_path / "pages.png"

    assert main(["--rows", str(ROWS), "--chart", str(chart)]) == 0

    output = capsys.readouterr().out
    _header, *advice = output.split("\n== ")
    assert [section.split(":")[0] for section in advice] == [
        "The seed's original query",
        "Option 2",
        "Option 1",
        "rangeqs",
    ]
    assert "NOT SERVED: every page sorts" in advice[2]
    assert "\nSERVED: one index gives the rows in keyset order" in advice[3]
    assert all("Live plan of page 2" in section for section in advice)
    if connection.vendor == "postgresql":
        # rangeqs's page is explained under the guard it runs with: the
        # serving index, no sort, whatever the planner estimates.
        assert "Live plan of page 2 (as the wrapper runs it): no sort" in advice[3]
        assert "disagrees" not in advice[3]
    walked = [(name, walk) for name in DEFAULT_SETS for walk in WALK_NAMES]
    page_times = table_lines(output, "The Seer deletion task's walk")
    assert [(row[0], row[1]) for row in page_times] == walked
    # First page, last page and the points between, each a time in ms.
    assert all(len(row) == 2 + PAGE_TIME_POINTS for row in page_times)
    assert all(float(cell) > 0 for row in page_times for cell in row[2:])
    totals = table_lines(output, "Totals:")
    assert [(row[0], row[1]) for row in totals] == walked
    # Every walk yields the whole set, in pages of 100.
    assert [(row[4], row[5]) for row in totals] == [
        (f"{SET_ROWS[name]:,}", str(math.ceil(SET_ROWS[name] / 100)))
        for name, _walk in walked
    ]
    assert [row[2].split(",")[0] for row in totals] == ["plain", "partition"] * len(
        DEFAULT_SETS
    )
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert f"Chart of every page's time: {chart.resolve()}" in output


@pytest.mark.django_db(transaction=True)
def test_every_page_of_every_walk_is_timed(tmp_path: Path) -> None:
    measurements = run_demo(
        rows=ROWS,
        out=io.StringIO(),
        sets=SET_NAMES,
    )

    assert [(m.target_set, m.walk) for m in measurements] == [
        (name, walk) for name in SET_NAMES for walk in WALK_NAMES
    ]
    for m in measurements:
        full, rest = divmod(SET_ROWS[m.target_set], 100)
        assert [page.rows for page in m.pages] == [100] * full + [rest] * (rest > 0)
        assert all(0 < page.database_seconds <= page.seconds for page in m.pages)
        assert m.database_seconds >= sum(page.database_seconds for page in m.pages)


def test_rows_of_the_target_sets_interleave_with_the_rest() -> None:
    owners = {i: placement(i) for i in range(1, ROWS + 1)}
    for target in TARGET_SETS:
        members = [i for i, (_p, group) in owners.items() if group in target.group_ids]
        assert len(members) == SET_ROWS[target.name]
        assert {owners[i][0] for i in members} == {target.project_id}
        # Every 1000 ids hold their share of the set, not one block at the end.
        per_block = [sum(1 for i in members if i // 1000 == b) for b in range(10)]
        assert max(per_block) - min(per_block) <= 1


def test_background_groups_have_one_hash_each() -> None:
    targets = {group for target in TARGET_SETS for group in target.group_ids}
    background = [
        group
        for i in range(1, ROWS + 1)
        for _p, group in [placement(i)]
        if group not in targets
    ]

    assert len(background) == ROWS - sum(SET_ROWS.values())
    assert len(set(background)) == len(background)


def test_running_median_follows_the_trend_not_one_spike() -> None:
    from rangeqs.examples.grouphash.chart import running_median

    assert running_median([1, 1, 9, 1, 1, 5, 5, 5], window=3) == [
        1,
        1,
        1,
        1,
        1,
        5,
        5,
        5,
    ]


def test_set_names_are_the_target_sets() -> None:
    assert tuple(target.name for target in TARGET_SETS) == SET_NAMES


def test_unknown_set_is_refused_with_the_known_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--sets", "dense,huge"])
    assert "names no target set or an unknown one" in capsys.readouterr().err


def test_chart_without_matplotlib_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from rangeqs.examples.grouphash.chart import write_chart

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(RuntimeError, match="needs matplotlib"):
        write_chart([], tmp_path / "chart.png")


def test_chart_without_matplotlib_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit):
        main(["--rows", "1000", "--chart", str(tmp_path / "chart.png")])
    assert "--chart needs matplotlib" in capsys.readouterr().err


def test_chart_is_a_png_of_every_page(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from rangeqs.examples.grouphash.chart import write_chart

    pages = tuple(PageTime(100, 0.002 * (10 - i), 0.001) for i in range(10))
    measurements = [
        WalkMeasurement(name, walk, "plain, order by id", 10, 1000, 0.1, 0.05, pages)
        for name in DEFAULT_SETS
        for walk in WALK_NAMES
    ]
    write_chart(measurements, tmp_path / "chart.png")

    assert (tmp_path / "chart.png").read_bytes().startswith(PNG_SIGNATURE)


def test_database_options_are_refused_where_django_is_configured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--rows", "1000", "--embedded-postgres"])
    assert excinfo.value.code == 2
    assert capsys.readouterr().err.endswith(
        "error: Django is already configured in this process: run the demo with "
        "python -m rangeqs.examples.grouphash to choose a database.\n"
    )


def test_too_few_rows_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--rows", "10"])
    assert "--rows 10 is too small: use 1000 or more." in capsys.readouterr().err


def run_demo_module(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key != "DJANGO_SETTINGS_MODULE"
    }
    environment["PYTHONPATH"] = str(REPO / "src")
    return subprocess.run(
        [sys.executable, "-m", "rangeqs.examples.grouphash", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=180,
        cwd=cwd,
    )


def test_demo_runs_on_an_embedded_postgresql_by_default(tmp_path: Path) -> None:
    if settings.RANGEQS_TEST_DATABASE != "postgresql18":
        pytest.skip("the subprocess starts its own PostgreSQL 18: once is enough")
    pytest.importorskip("matplotlib")
    result = run_demo_module("--rows", "3000", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rangeqs GroupHash demo on PostgreSQL 18.")
    assert len(table_lines(result.stdout, "Totals:")) == len(DEFAULT_SETS) * len(WALKS)
    # The chart goes to the current directory when no --chart is given.
    chart = tmp_path / "grouphash-demo-pages.png"
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert f"Chart of every page's time: {chart}" in result.stdout


def test_demo_runs_on_its_own_sqlite_file_with_sqlite(tmp_path: Path) -> None:
    if settings.RANGEQS_TEST_DATABASE != "sqlite":
        pytest.skip("the subprocess makes its own SQLite file: once is enough")
    result = run_demo_module("--rows", "2000", "--sqlite", "--no-chart", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rangeqs GroupHash demo on SQLite ")
    assert len(table_lines(result.stdout, "Totals:")) == len(DEFAULT_SETS) * len(WALKS)
    assert "Chart" not in result.stdout
    assert not list(tmp_path.iterdir())


def test_demo_names_a_database_it_cannot_reach(tmp_path: Path) -> None:
    if settings.RANGEQS_TEST_DATABASE != "sqlite":
        pytest.skip("the subprocess does not use the test database: once is enough")
    result = run_demo_module(
        "--rows",
        "1000",
        "--database-url",
        "postgresql://postgres@127.0.0.1:1/none",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: the database failed (")
    assert result.stderr.endswith(
        "): check --database-url and that the server is running.\n"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://me:p%40ss@db.example:5433/grouphash",
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "grouphash",
                "USER": "me",
                "PASSWORD": "p@ss",
                "HOST": "db.example",
                "PORT": "5433",
            },
        ),
        (
            "mysql://root@127.0.0.1/test?charset=utf8mb4",
            {
                "ENGINE": "django.db.backends.mysql",
                "NAME": "test",
                "USER": "root",
                "PASSWORD": "",
                "HOST": "127.0.0.1",
                "PORT": "",
                "OPTIONS": {"charset": "utf8mb4"},
            },
        ),
        (
            "sqlite:///demo.db",
            {"ENGINE": "django.db.backends.sqlite3", "NAME": "demo.db"},
        ),
        (
            "sqlite:////tmp/demo.db",
            {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/demo.db"},
        ),
    ],
)
def test_database_url_becomes_a_databases_entry(
    url: str, expected: dict[str, object]
) -> None:
    assert database_from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "oracle://db/x",
            (
                "--database-url scheme 'oracle' is not supported: use postgresql://, "
                "mysql:// or sqlite:///."
            ),
        ),
        (
            "postgresql://db.example",
            (
                "--database-url 'postgresql://db.example' names no database: add it "
                "after the host, as in postgresql://user@host/dbname."
            ),
        ),
        (
            "sqlite://",
            (
                "--database-url 'sqlite://' names no SQLite file: write "
                "sqlite:///relative/path.db or sqlite:////absolute/path.db."
            ),
        ),
    ],
)
def test_database_url_errors_name_the_fix(url: str, message: str) -> None:
    with pytest.raises(ValueError, match="database-url") as excinfo:
        database_from_url(url)
    assert str(excinfo.value) == message
