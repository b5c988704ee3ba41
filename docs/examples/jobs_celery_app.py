"""Tutorial: the Celery app of a project that runs rangeqs jobs.

Run a worker with ``celery -A docs.examples.jobs_celery_app worker``.
"""

from __future__ import annotations

import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")  # your settings
django.setup()

app = Celery(
    "myproject",
    # The range task: name "rangeqs.jobs.run_range".
    include=["rangeqs.jobs.celery_tasks"],
    set_as_current=False,
)
app.conf.update(
    broker_url="redis://127.0.0.1:6379/0",
    # One message at a time per worker process: a range task runs for the
    # job's budget_seconds, and a prefetched one would wait behind it.
    worker_prefetch_multiplier=1,
    # A worker killed mid-task has its message delivered again after this.
    broker_transport_options={"visibility_timeout": 300},
)
