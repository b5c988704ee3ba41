"""The demo, end to end at a small size, and its database URL parsing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rangeqs.examples.grouphash.__main__ import main
from rangeqs.examples.grouphash.datagen import TARGET_SETS, placement
from rangeqs.examples.grouphash.demo import WALKS
from rangeqs.examples.grouphash.measure import Measurement
from rangeqs.examples.grouphash.settings import database_from_url

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

REPO = Path(__file__).resolve().parents[2]
WALK_NAMES = [name for name, _walk in WALKS]


def table_lines(output: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("  ") if cell.strip()]
        for line in output.splitlines()
        if line.startswith(("dense ", "sparse ", "rare "))
    ]


@pytest.mark.django_db(transaction=True)
def test_demo_shows_the_advice_and_the_table_of_both_walks(
    capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    assert main(["--rows", "3000"]) == 0

    output = capsys.readouterr().out
    _header, *advice = output.split("\n== ")
    assert [section.split(":")[0] for section in advice] == [
        "The seed's original query",
        "Option 2",
        "Option 1",
        "rangeqs",
    ]
    # Which index a database picks for the tenant filter varies; these two
    # verdicts hold everywhere.
    assert "NOT SERVED: every page sorts" in advice[2]
    assert "\nSERVED: one index gives the rows in keyset order" in advice[3]
    # The live plans are printed too; at this size the planner may prefer
    # anything, so only their presence is checked.
    assert all("Live plan of page 2: " in section for section in advice)
    # ...but where the planner's choice contradicts the verdict, the demo
    # says so instead of leaving the reader with two answers.
    for section in advice:
        static_served = "\nSERVED:" in section
        live_served = "Live plan of page 2: no sort, scan narrowed" in section
        assert ("The live plan disagrees" in section) == (static_served != live_served)
    rows = table_lines(output)
    assert [(row[0], row[1]) for row in rows] == [
        (target.name, walk) for target in TARGET_SETS for walk in WALK_NAMES
    ]
    # 3000 rows: 4.7 % dense, 1 % sparse, 0.1 % rare, each scheduled in full by
    # every walk.
    assert {(row[0], row[4]) for row in rows} == {
        ("dense", "141"),
        ("sparse", "30"),
        ("rare", "3"),
    }
    assert "partition" in rows[2][2]
    assert "--embedded-postgres" in output


def test_rows_of_the_target_sets_interleave_with_the_rest() -> None:
    owners = {i: placement(i, background=10) for i in range(1, 3001)}
    for target, expected_rows in zip(TARGET_SETS, (141, 30, 3), strict=True):
        members = [i for i, (_p, group) in owners.items() if group in target.group_ids]
        assert len(members) == expected_rows
        assert {owners[i][0] for i in members} == {target.project_id}
        # Every 1000 ids hold their share of the set, not one block at the end.
        per_block = [sum(1 for i in members if i // 1000 == b) for b in range(3)]
        assert max(per_block) - min(per_block) <= 1


def test_chart_without_matplotlib_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from rangeqs.examples.grouphash.chart import write_chart

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(RuntimeError) as excinfo:
        write_chart([], tmp_path / "chart.png")
    assert str(excinfo.value) == (
        "--chart needs matplotlib: install it with `pip install matplotlib`, or "
        "leave out --chart."
    )


def test_chart_without_matplotlib_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit):
        main(["--rows", "1000", "--chart", str(tmp_path / "chart.png")])
    assert capsys.readouterr().err.endswith(
        "error: --chart needs matplotlib: install it with `pip install "
        "matplotlib`, or leave out --chart.\n"
    )


def test_chart_is_a_png_of_the_measurements(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from rangeqs.examples.grouphash.chart import write_chart

    measurements = [
        Measurement("dense", walk, "plain, order by id", 3, 141, 0.5, 0.25)
        for walk in WALK_NAMES
    ]
    write_chart(measurements, tmp_path / "chart.png")

    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG\r\n")


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


def run_demo_module(*arguments: str) -> subprocess.CompletedProcess[str]:
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
        timeout=120,
    )


def test_demo_runs_as_a_module_on_its_own_sqlite_file(vendor: str) -> None:
    if vendor != "sqlite":
        pytest.skip("the subprocess makes its own SQLite file: once is enough")
    result = run_demo_module("--rows", "2000")
    assert result.returncode == 0, result.stderr
    assert "rangeqs GroupHash demo on sqlite, 2,000 rows" in result.stdout
    assert len(table_lines(result.stdout)) == len(TARGET_SETS) * len(WALKS)


def test_demo_names_a_database_it_cannot_reach(vendor: str) -> None:
    if vendor != "sqlite":
        pytest.skip("the subprocess does not use the test database: once is enough")
    result = run_demo_module(
        "--rows", "1000", "--database-url", "postgresql://postgres@127.0.0.1:1/none"
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
