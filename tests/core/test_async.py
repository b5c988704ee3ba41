from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.db.models.signals import post_init

from rangeqs import RangeQuerySetWrapper
from tests.core.factories import EntryFactory
from tests.testapp.models import Entry

pytestmark = pytest.mark.django_db


def test_async_for_yields_every_row_in_the_order_of_sync_iteration() -> None:
    entries = [EntryFactory.create(a=a) for a in (2, None, 1, 2, None)]
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=("a", "id"))

    async def collect() -> list[int]:
        return [entry.pk async for entry in wrapper]

    yielded = async_to_sync(collect)()
    assert yielded == [entry.pk for entry in wrapper]
    assert sorted(yielded) == sorted(e.pk for e in entries)


def test_abatches_match_batches_and_run_the_callbacks() -> None:
    EntryFactory.create_batch(5)
    seen: list[list[int]] = []
    wrapper = RangeQuerySetWrapper(
        Entry.objects.values_list("id", flat=True),
        step=2,
        callbacks=[lambda batch: seen.append(list(batch))],
    )

    async def collect() -> list[list[Any]]:
        return [batch async for batch in wrapper.abatches()]

    batches = async_to_sync(collect)()
    assert batches == [list(batch) for batch in wrapper.batches()]
    assert seen == batches + batches
    assert wrapper.queries == 6


def test_async_iteration_resumes_from_a_cursor() -> None:
    entries = EntryFactory.create_batch(4)
    first = RangeQuerySetWrapper(Entry.objects.all(), limit=2)

    async def collect(wrapper: RangeQuerySetWrapper[Entry]) -> list[int]:
        return [entry.pk async for entry in wrapper]

    head = async_to_sync(collect)(first)
    tail = async_to_sync(collect)(
        RangeQuerySetWrapper(Entry.objects.all(), after=first.cursor)
    )
    assert head + tail == [e.pk for e in entries]


def test_async_iteration_cursor_names_the_row_just_received() -> None:
    entries = EntryFactory.create_batch(5)
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=2)

    async def take(count: int) -> list[int]:
        taken = []
        async for entry in wrapper:
            taken.append(entry.pk)
            if len(taken) == count:
                break
        return taken

    head = async_to_sync(take)(3)
    tail = [
        e.pk for e in RangeQuerySetWrapper(Entry.objects.all(), after=wrapper.cursor)
    ]
    assert head + tail == [e.pk for e in entries]


def test_async_iteration_makes_rows_outside_the_event_loop() -> None:
    # post_init receivers may query the database, which Django refuses in
    # the event loop's thread: every row of every page is made in the
    # worker thread, as QuerySet.__aiter__ makes them.
    EntryFactory.create_batch(5)
    made_in: list[int] = []

    def record_thread(sender: type[Entry], **kwargs: Any) -> None:
        made_in.append(threading.get_ident())

    async def collect() -> tuple[list[int], int]:
        loop_thread = threading.get_ident()
        wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=2)
        return [entry.pk async for entry in wrapper], loop_thread

    post_init.connect(record_thread, sender=Entry)
    try:
        pks, loop_thread = async_to_sync(collect)()
    finally:
        post_init.disconnect(record_thread, sender=Entry)

    assert len(pks) == 5
    assert len(made_in) == 5
    assert loop_thread not in made_in


_FRESH_PROCESS = """
import json, os, sys

from django.conf import settings

settings.DATABASES["default"].update(json.loads(os.environ["RANGEQS_FRESH_DATABASE"]))

import django

django.setup()

from asgiref.sync import async_to_sync
from django.db import connection
from django.db import connection, transaction

from rangeqs import RangeQuerySetWrapper
from tests.testapp.models import PlanRow

if connection.vendor == "sqlite":
    # A database of its own, in memory: the test run's is not shared.
    with connection.schema_editor() as editor:
        editor.create_model(PlanRow)


async def walk():
    # Constructed on the event loop, as an async view would.
    wrapper = RangeQuerySetWrapper(
        PlanRow.objects.filter(group_id__in=[1, 2, 3]), order_by="id", step=2
    )
    return [row.pk async for row in wrapper]


with transaction.atomic():
    rows = PlanRow.objects.bulk_create(
        PlanRow(project_id=1, group_id=group) for group in (1, 2, 3, 4, 1, 2)
    )
    expected = [row.pk for row in rows if row.group_id != 4]
    yielded = async_to_sync(walk)()
    transaction.set_rollback(True)
print(json.dumps({"yielded": yielded, "expected": expected}))
"""


def test_async_for_over_a_wrapper_made_on_the_event_loop_of_a_fresh_process() -> None:
    # A fresh process has asked the server nothing yet: any database work on
    # the event loop (MariaDB's version, say) raises SynchronousOnlyOperation.
    settings_dict = connection.settings_dict
    database = {
        name: settings_dict[name]
        for name in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
    }
    if connection.vendor == "sqlite":
        database["NAME"] = ":memory:"
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)]),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "RANGEQS_FRESH_DATABASE": json.dumps(database),
    }
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=False,
    )

    assert "SynchronousOnlyOperation" not in result.stderr
    assert result.returncode == 0, result.stderr
    walked = json.loads(result.stdout)
    assert walked["yielded"] == walked["expected"]
    assert len(walked["yielded"]) == 5
