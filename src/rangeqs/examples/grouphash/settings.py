"""Configure Django in code for the demo, so that it runs without a project.

``database_from_url`` reads the ``--database-url`` forms the demo accepts;
no extra dependency (such as dj-database-url) is needed for these three.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import django
from django.conf import settings

__all__ = ["configure", "database_from_url", "sqlite_database"]

_ENGINES = {
    "postgresql": "django.db.backends.postgresql",
    "postgres": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "mariadb": "django.db.backends.mysql",
}


def sqlite_database(path: Path, *, throwaway: bool = False) -> dict[str, Any]:
    database: dict[str, Any] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
    }
    if throwaway:
        # The demo's own temporary file need not survive a crash: skip fsync.
        database["OPTIONS"] = {
            "init_command": "PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY"
        }
    return database


def database_from_url(url: str) -> dict[str, Any]:
    """A ``DATABASES`` entry from ``postgresql://``, ``mysql://`` or ``sqlite:///``."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as in SQLAlchemy.
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if parts.netloc or not path:
            raise ValueError(
                f"--database-url {url!r} names no SQLite file: write "
                f"sqlite:///relative/path.db or sqlite:////absolute/path.db."
            )
        return sqlite_database(Path(unquote(path)))
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise ValueError(
            f"--database-url scheme {parts.scheme!r} is not supported: use "
            f"postgresql://, mysql:// or sqlite:///."
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ValueError(
            f"--database-url {url!r} names no database: add it after the host, "
            f"as in {parts.scheme}://user@host/dbname."
        )
    database: dict[str, Any] = {
        "ENGINE": engine,
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(parts.port or ""),
    }
    options = dict(parse_qsl(parts.query))
    if options:
        database["OPTIONS"] = options
    return database


def configure(database: dict[str, Any]) -> None:
    """Settings for the demo: the example app and the immediate tasks backend,
    on ``database``."""
    # Django 6.0+ ships django.tasks; on 5.2 the django-tasks backport stands in.
    if find_spec("django.tasks"):
        tasks_package, extra_apps = "django.tasks", []
    else:
        tasks_package, extra_apps = "django_tasks", ["django_tasks"]
    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=["rangeqs", "rangeqs.examples.grouphash", *extra_apps],
        TASKS={
            "default": {
                "BACKEND": f"{tasks_package}.backends.immediate.ImmediateBackend"
            }
        },
        USE_TZ=True,
        TIME_ZONE="UTC",
        SECRET_KEY="rangeqs-grouphash-demo",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()
