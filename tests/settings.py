"""Settings for the test suite: one database per pytest run.

``RANGEQS_TEST_DATABASE`` picks which; ``python -m tests`` runs pytest once
for each name in ``RANGEQS_TEST_DATABASES``. ``RANGEQS_TEST_COMPILED_PAGES=0``
sets ``RANGEQS_COMPILED_PAGES = False``.
"""

from __future__ import annotations

import json
import os
from importlib.util import find_spec
from typing import Any

TEST_DATABASE_NAMES = ("sqlite", "postgresql18", "postgresql15", "mariadb")

RANGEQS_TEST_DATABASE = os.environ.get("RANGEQS_TEST_DATABASE", "sqlite")
if RANGEQS_TEST_DATABASE not in TEST_DATABASE_NAMES:
    raise ValueError(
        f"RANGEQS_TEST_DATABASE={RANGEQS_TEST_DATABASE!r} is not a test database: "
        f"use one of {', '.join(TEST_DATABASE_NAMES)}."
    )

# Several developers (and CI) may share one PostgreSQL 15 / MariaDB server;
# a per-process name keeps their test databases apart.
_TEST_NAME = f"test_rangeqs_{os.getpid()}"

_DATABASES: dict[str, dict[str, Any]] = {
    "sqlite": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
    },
    # HOST and PORT are filled in by the session fixture that starts the
    # embedded server (tests/conftest.py).
    "postgresql18": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": "",
        "PORT": "",
        "TEST": {"NAME": _TEST_NAME},
    },
    "postgresql15": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": os.environ.get("RANGEQS_PG15_HOST", "127.0.0.1"),
        "PORT": os.environ.get("RANGEQS_PG15_PORT", "5432"),
        "TEST": {"NAME": _TEST_NAME},
    },
    "mariadb": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": "test",
        "USER": "root",
        "PASSWORD": "",
        "HOST": os.environ.get("RANGEQS_MARIADB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("RANGEQS_MARIADB_PORT", "3306"),
        "OPTIONS": {"charset": "utf8mb4"},
        "TEST": {"NAME": _TEST_NAME, "CHARSET": "utf8mb4"},
    },
}

DATABASES = {"default": _DATABASES[RANGEQS_TEST_DATABASE]}
# Worker processes started by the jobs tests use the test session's database:
# its settings (test name, embedded server's port) come in as JSON.
if _WORKER_DATABASE := os.environ.get("RANGEQS_WORKER_DATABASE"):
    DATABASES = {"default": json.loads(_WORKER_DATABASE)}

# ``RANGEQS_TEST_COMPILED_PAGES=0`` runs the suite on the fallback of
# rangeqs._django (ordinary querysets, no private Django API).
RANGEQS_COMPILED_PAGES = os.environ.get("RANGEQS_TEST_COMPILED_PAGES", "1") != "0"

SECRET_KEY = "rangeqs-test-suite"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    # The admin (and what it needs) for the rangeqs.jobs admin's tests.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.sessions",
    "rangeqs",
    "rangeqs.jobs",
    "rangeqs.examples.grouphash",
    "tests.testapp",
    "tests.opsapp",
    "tests.jobs",
]

# What the admin needs to pass its system checks (worker commands run them).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

# Django 6.0+ ships django.tasks; on 5.2 the django-tasks backport stands in.
_TASKS_PACKAGE = "django.tasks" if find_spec("django.tasks") else "django_tasks"
if _TASKS_PACKAGE == "django_tasks":
    INSTALLED_APPS.append("django_tasks")
TASKS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend"}
}
# A real worker for the jobs tests: django-tasks-db's `manage.py db_worker`.
if find_spec("django_tasks_db"):
    INSTALLED_APPS.append("django_tasks_db")
    TASKS["db"] = {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}

# The jobs tests' Celery app (tests/jobs/celery_app.py): the machine's Redis,
# a database number of its own; each test run uses queues of its own.
CELERY_BROKER_URL = os.environ.get(
    "RANGEQS_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13"
)
# A killed worker's unacknowledged task comes back after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING_CONFIG = None
