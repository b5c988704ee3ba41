"""Run the test suite once for each database in RANGEQS_TEST_DATABASES.

    RANGEQS_TEST_DATABASES=sqlite,postgresql18,postgresql15,mariadb python -m tests

Arguments are passed on to pytest. The default is ``sqlite,postgresql18``:
both need nothing but this project's own dependencies.
"""

from __future__ import annotations

import importlib
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


#: The driver each database needs beyond the test dependencies, and the
#: package that installs it (tox's ``mariadb`` factor, ``.ci/run``).
DRIVERS = {"mariadb": ("MySQLdb", "mysqlclient>=2.2")}


def check_drivers(names: list[str]) -> None:
    """Stop before any run when a requested database has no driver: the runner
    installs nothing (mysqlclient compiles against libmariadb-dev, which a
    machine that never tests MariaDB need not have)."""
    for name in names:
        if name not in DRIVERS:
            continue
        module, requirement = DRIVERS[name]
        try:
            importlib.import_module(module)
        except ImportError:
            sys.exit(
                f"RANGEQS_TEST_DATABASES names {name}, whose driver {module} is "
                f"not installed: run `tox -e py-mariadb`, or install it with "
                f"`python -m pip install '{requirement}'` (it needs the "
                f"libmariadb-dev headers)."
            )


def main(pytest_args: list[str]) -> int:
    totals: dict[str, int] = {}
    failed_runs: list[str] = []
    databases = requested_databases()
    check_drivers(databases)
    for name in databases:
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
