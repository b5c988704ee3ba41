from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from rangeqs.examples.embedded_postgres import start_embedded_postgres

if TYPE_CHECKING:
    from collections.abc import Iterator


# Database round trips make examples slow; a deadline would only measure the
# machine. HYPOTHESIS_PROFILE=thorough runs more examples.
hypothesis_settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile(
    "thorough", parent=hypothesis_settings.get_profile("default"), max_examples=400
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _check_server_reachable(db: dict[str, Any], name: str) -> None:
    """A database named in RANGEQS_TEST_DATABASES must be there: fail, never skip."""
    try:
        if db["ENGINE"].endswith("postgresql"):
            import psycopg

            psycopg.connect(
                host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
            ).close()
        elif db["ENGINE"].endswith("mysql"):
            import MySQLdb

            MySQLdb.connect(
                host=db["HOST"],
                port=int(db["PORT"]),
                user=db["USER"],
                password=db["PASSWORD"],
            ).close()
    except Exception as exc:
        pytest.exit(
            f"The test database {name!r} cannot be reached ({exc}); start it "
            f"or remove it from RANGEQS_TEST_DATABASES.",
            returncode=3,
        )


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> Iterator[None]:
    name = settings.RANGEQS_TEST_DATABASE
    db = settings.DATABASES["default"]
    if name == "postgresql18":
        server = start_embedded_postgres()
        # connections share this dict, so the change reaches them as long as
        # no connection has been opened yet.
        db.update(server.database_settings(db["NAME"]) | {"TEST": db["TEST"]})
        try:
            yield
        finally:
            from django.db import connections

            connections.close_all()
            server.stop()
        return
    _check_server_reachable(db, name)
    yield


@pytest.fixture(autouse=True)
def _forget_logged_advice() -> None:
    # The advisor logs each report once per process; every test starts afresh
    # so that what one test logs cannot hide another's warning.
    from rangeqs._warnings import forget_warnings

    forget_warnings()


@pytest.fixture
def vendor() -> str:
    """The database vendor of this run: sqlite, postgresql or mysql."""
    return connection.vendor


def pytest_report_header(config: pytest.Config) -> str:
    return f"rangeqs test database: {settings.RANGEQS_TEST_DATABASE}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # `python -m tests` adds up the runs of every database from these files.
    summary_file = os.environ.get("RANGEQS_TEST_SUMMARY_FILE")
    if not summary_file:
        return
    counts = {
        outcome: len(terminalreporter.stats.get(outcome, []))
        for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
    }
    with open(summary_file, "w") as f:
        json.dump(counts, f)
