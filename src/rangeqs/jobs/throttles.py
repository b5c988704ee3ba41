"""Built-in throttles: how long to wait before the next batch (0: go on).

A job names one by dotted path (``throttle=``) with keyword arguments
(``throttle_kwargs=``); it is called between batches as
``throttle(job=..., job_range=..., connection=..., **throttle_kwargs)``, and
a positive number of seconds pauses the range that long. A range task whose
time budget the wait would overrun returns and is enqueued again after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "mariadb_threads_running",
    "postgresql_active_backends",
    "postgresql_replication_lag",
]


def postgresql_replication_lag(
    *,
    connection: BaseDatabaseWrapper,
    max_lag_seconds: float = 10.0,
    wait_seconds: float = 5.0,
    **_: Any,
) -> float:
    """Wait while a streaming replica replays more than ``max_lag_seconds``
    behind (``pg_stat_replication.replay_lag``; no replica: no lag)."""
    _require(connection, "postgresql")
    lag = _scalar(
        connection,
        "SELECT COALESCE(MAX(EXTRACT(EPOCH FROM replay_lag)), 0) "
        "FROM pg_stat_replication",
    )
    return wait_seconds if float(lag) > max_lag_seconds else 0.0


def postgresql_active_backends(
    *,
    connection: BaseDatabaseWrapper,
    max_active: int = 20,
    wait_seconds: float = 5.0,
    **_: Any,
) -> float:
    """Wait while more than ``max_active`` other backends run a statement."""
    _require(connection, "postgresql")
    active = _scalar(
        connection,
        "SELECT COUNT(*) FROM pg_stat_activity "
        "WHERE state = 'active' AND pid <> pg_backend_pid()",
    )
    return wait_seconds if int(active) > max_active else 0.0


def mariadb_threads_running(
    *,
    connection: BaseDatabaseWrapper,
    max_running: int = 25,
    wait_seconds: float = 5.0,
    **_: Any,
) -> float:
    """Wait while ``Threads_running`` is above ``max_running``, as
    pt-online-schema-change's ``--max-load`` and django-mysql do."""
    _require(connection, "mysql")
    with connection.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Threads_running'")
        row = cursor.fetchone()
    running = int(row[1]) if row else 0
    return wait_seconds if running > max_running else 0.0


def _require(connection: BaseDatabaseWrapper, vendor: str) -> None:
    if connection.vendor != vendor:
        raise ImproperlyConfigured(
            f"This throttle reads {vendor} statistics but the job's database is "
            f"{connection.vendor}: pick a throttle for {connection.vendor}."
        )


def _scalar(connection: BaseDatabaseWrapper, sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return row[0] if row else 0
