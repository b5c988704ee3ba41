"""The date, machine and server a run measured, printed above its tables."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from typing import TYPE_CHECKING

import django

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["describe_environment"]


def describe_environment(connection: BaseDatabaseWrapper) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()
    server = "?" if row is None else row[0].split()[0]
    buffers = "?" if shared_buffers is None else shared_buffers[0]
    now = datetime.datetime.now(datetime.timezone.utc)
    # Development mode installs debug memory allocators: every strategy runs
    # slower, the pure-Python ones most.
    dev_mode = (
        "; Python development mode is ON, timings are slowed" * sys.flags.dev_mode
    )
    return (
        f"{now:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, "
        f"{_memory_gib():.0f} GiB; PostgreSQL {server} (shared_buffers {buffers}); "
        f"Python {platform.python_version()}, Django {django.get_version()}{dev_mode}"
    )


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
