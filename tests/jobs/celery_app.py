"""The Celery app the jobs tests' worker processes run (``celery -A``)."""

from __future__ import annotations

import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

app = Celery(
    "rangeqs-tests", include=["rangeqs.jobs.celery_tasks"], set_as_current=False
)
app.config_from_object("django.conf:settings", namespace="CELERY")
