"""The test runner (``python -m tests``) installs nothing: a database whose
driver is missing stops it before any run, naming the install."""

from __future__ import annotations

import sys

import pytest

from tests import __main__ as runner


def test_a_mariadb_run_without_its_driver_stops_before_any_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "MySQLdb", None)
    monkeypatch.setenv("RANGEQS_TEST_DATABASES", "sqlite,mariadb")
    with pytest.raises(SystemExit) as stopped:
        runner.main(["-q", "--collect-only", "tests/test_infrastructure.py"])
    message = str(stopped.value.code)
    assert "MySQLdb" in message
    assert "mysqlclient" in message


def test_a_run_without_mariadb_needs_no_mariadb_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "MySQLdb", None)
    runner.check_drivers(["sqlite", "postgresql18"])
