"""Start real worker processes on the test session's database, and kill them.

Every worker is started in a session of its own and killed with its whole
process group when the ``with`` block ends, whatever happened inside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import connection

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]


def worker_command(kind: str, queue: str) -> list[str]:
    if kind == "celery":
        return [
            sys.executable, "-m", "celery", "-A", "tests.jobs.celery_app", "worker",
            "-Q", queue, "--pool=solo", "--concurrency=1", "--without-gossip",
            "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "django", "db_worker", "--backend", "db",
        "--queue-name", queue, "--interval", "0.1", "--no-startup-delay",
        "--no-reload",
    ]  # fmt: skip


@contextlib.contextmanager
def worker(
    kind: str, *, queue: str, env: dict[str, str] | None = None
) -> Iterator[Worker]:
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115
        "w+", prefix=f"rangeqs-{kind}-worker-", suffix=".log", delete=False
    )
    environment = os.environ | {
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "RANGEQS_WORKER_DATABASE": json.dumps(connection.settings_dict),
        "PYTHONDEVMODE": "",
    }
    environment |= env or {}
    process = subprocess.Popen(
        worker_command(kind, queue),
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield Worker(process, Path(log.name))
    finally:
        kill(process)
        log.close()
        os.unlink(log.name)


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text()[-4000:]

    def kill(self) -> None:
        kill(self.process)


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and every process it started; reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_for(
    condition: Callable[[], bool],
    *,
    what: str,
    workers: list[Worker],
    seconds: float = 90,
) -> None:
    """Poll ``condition`` until it holds; fail with the workers' output if not."""
    deadline = time.monotonic() + seconds
    while not condition():
        for each in workers:
            if each.process.poll() is not None:
                raise AssertionError(f"a worker exited before {what}:\n{each.output()}")
        if time.monotonic() > deadline:
            logs = "\n---\n".join(each.output() for each in workers)
            raise AssertionError(f"timed out waiting for {what}:\n{logs}")
        time.sleep(0.1)
