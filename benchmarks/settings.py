"""Django set-up in code: the benchmarks need no settings module of their own."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import django
from django.conf import settings


def database_from_url(url: str) -> dict[str, Any]:
    """A ``DATABASES`` entry for ``postgresql://user[:password]@host[:port]/name``."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"} or not parts.path.strip("/"):
        raise ValueError(
            f"--database-url {url!r} is not a PostgreSQL URL: write it as "
            "postgresql://USER@HOST:PORT/DATABASE."
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.strip("/")),
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


def configure_django(database: dict[str, Any]) -> None:
    """Point Django at ``database``.

    The benchmark models carry an explicit app label, so their app need not
    be installed: the same models then also work under the test settings.
    """
    settings.configure(
        DATABASES={"default": database},
        # rangeqs.jobs for `benchmarks jobs` (its tables are made by the run).
        INSTALLED_APPS=["rangeqs", "rangeqs.jobs"],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        SECRET_KEY="rangeqs-benchmarks",
        LOGGING_CONFIG=None,
    )
    django.setup()
