"""Tutorial: the settings a project adds to run the GroupHash example."""

from __future__ import annotations

from importlib.util import find_spec

INSTALLED_APPS = [
    # ... your apps ...
    "rangeqs.examples.grouphash",
]

# Django 6.0+ ships django.tasks; on 5.2 install the backport (`pip install
# "rangeqs[example]"`) and add its app.
TASKS_PACKAGE = "django.tasks" if find_spec("django.tasks") else "django_tasks"
if TASKS_PACKAGE == "django_tasks":
    INSTALLED_APPS.append("django_tasks")
TASKS = {"default": {"BACKEND": f"{TASKS_PACKAGE}.backends.immediate.ImmediateBackend"}}

# callable(project_id: int, hashes: list[str]) -> None; the default only logs.
RANGEQS_GROUPHASH_SEER_CLIENT = "rangeqs.examples.grouphash.seer.log_seer_deletion"
# Hashes per enqueued task (and per page of the walk).
RANGEQS_GROUPHASH_DELETE_BATCH_SIZE = 100

# Option 2 of the seed instead of Option 1: the (project_id, group_id, id) index.
# MIGRATION_MODULES = {"grouphash": "rangeqs.examples.grouphash.alternative_migrations"}
