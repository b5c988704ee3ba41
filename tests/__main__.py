"""Run the test suite once for each database in RANGEQS_TEST_DATABASES.

    RANGEQS_TEST_DATABASES=sqlite,postgresql18,postgresql15,mariadb python -m tests

Arguments are passed on to pytest. The default is ``sqlite,postgresql18``:
both need nothing but this project's own dependencies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from tests.settings import TEST_DATABASE_NAMES

DEFAULT_DATABASES = "sqlite,postgresql18"


def requested_databases() -> list[str]:
    raw = os.environ.get("RANGEQS_TEST_DATABASES", DEFAULT_DATABASES)
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in TEST_DATABASE_NAMES]
    if unknown or not names:
        sys.exit(
            f"RANGEQS_TEST_DATABASES={raw!r} names no known database or an unknown "
            f"one ({', '.join(unknown)}): use a comma-separated list of "
            f"{', '.join(TEST_DATABASE_NAMES)}."
        )
    return names


def ensure_driver(name: str) -> None:
    """Install the MariaDB driver on demand: it compiles against libmariadb-dev,
    which a machine that never tests MariaDB need not have."""
    if name != "mariadb":
        return
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        print("rangeqs: installing mysqlclient for the MariaDB run", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "mysqlclient>=2.2"],
            check=True,
        )


def main(pytest_args: list[str]) -> int:
    totals: dict[str, int] = {}
    failed_runs: list[str] = []
    for name in requested_databases():
        ensure_driver(name)
        print(f"\n=== rangeqs tests on {name} ===", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".json") as summary:
            env = os.environ | {
                "RANGEQS_TEST_DATABASE": name,
                "RANGEQS_TEST_SUMMARY_FILE": summary.name,
            }
            result = subprocess.run(
                [sys.executable, "-m", "pytest", *pytest_args], env=env, check=False
            )
            with open(summary.name) as summary_reader:
                raw = summary_reader.read()
        counts = json.loads(raw) if raw else {}
        for outcome, count in counts.items():
            totals[outcome] = totals.get(outcome, 0) + count
        if result.returncode != 0 or not counts.get("passed"):
            failed_runs.append(f"{name} (exit {result.returncode})")
    print()
    if failed_runs:
        print(f"rangeqs: failing runs: {', '.join(failed_runs)}")
    failed = totals.get("failed", 0) + totals.get("error", 0)
    print(
        f"rangeqs: {totals.get('passed', 0)} passed, {failed} failed, "
        f"{totals.get('skipped', 0)} skipped"
    )
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
