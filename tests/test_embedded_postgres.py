"""The throw-away server of the demo, the benchmarks and the test suite."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings

from rangeqs.examples.embedded_postgres import start_embedded_postgres

pytestmark = pytest.mark.skipif(
    settings.RANGEQS_TEST_DATABASE != "postgresql18",
    reason="starts a server of its own: once, in the embedded server's run",
)


def _setting(host: str, port: int, name: str) -> str | None:
    try:
        with psycopg.connect(host=host, port=port, user="postgres") as connection:
            row = connection.execute(f"SHOW {name}").fetchone()
    except psycopg.OperationalError:
        return None
    return None if row is None else str(row[0])


def test_server_settings_take_effect_and_the_server_stops_with_its_handle() -> None:
    server = start_embedded_postgres(settings={"shared_buffers": "48MB"})
    try:
        shown = _setting(server.host, server.port, "shared_buffers")
        pid = _postmaster_pid(server.host, server.port)
    finally:
        server.stop()

    assert shown == "48MB"
    # The restarted server is the one the handle stopped.
    assert not _alive(pid)


def _postmaster_pid(host: str, port: int) -> int:
    with psycopg.connect(host=host, port=port, user="postgres") as connection:
        row = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
        ).fetchone()
    assert row is not None
    # The checkpointer's parent is the postmaster.
    with open(f"/proc/{row[0]}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    """Running: a process that has exited but not been reaped is not."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_setting_that_would_need_quoting_is_refused_before_a_server_starts() -> None:
    with pytest.raises(ValueError, match="shared_buffers"):
        start_embedded_postgres(settings={"shared_buffers": "1GB'; DROP"})
