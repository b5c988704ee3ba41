from __future__ import annotations

from django.conf import settings
from django.db import connection


def test_runs_on_the_database_it_was_asked_for(db: None) -> None:
    expected_vendor = {
        "sqlite": "sqlite",
        "postgresql18": "postgresql",
        "postgresql15": "postgresql",
        "mariadb": "mysql",
    }[settings.RANGEQS_TEST_DATABASE]
    assert connection.vendor == expected_vendor
    if settings.RANGEQS_TEST_DATABASE.startswith("postgresql"):
        major = settings.RANGEQS_TEST_DATABASE.removeprefix("postgresql")
        server_version: int = connection.pg_version  # type: ignore[attr-defined]
        assert server_version // 10000 == int(major)
