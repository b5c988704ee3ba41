"""Constructing a wrapper does no database work; importing rangeqs stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connections

from rangeqs import RangeQuerySetWrapper
from tests.core.factories import EntryFactory
from tests.testapp.models import Entry, PlanRow

if TYPE_CHECKING:
    from collections.abc import Callable

    from rangeqs._plans import PlanName

pytestmark = pytest.mark.django_db

_ROOT = Path(__file__).resolve().parents[2]


def _in_a_fresh_connection(work: Callable[[], Any]) -> list[str]:
    """The SQL ``work`` runs on a connection that has asked the server nothing,
    and ``"connect"`` first if it opens the connection.

    A new thread gets its own connection object, whose cached server facts
    (MariaDB's version, storage engine) are still unread, as in a new process.
    """
    queries: list[str] = []
    failures: list[BaseException] = []

    def record(execute: Any, sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    def run() -> None:
        connection = connections["default"]
        try:
            assert not _is_open(connection)
            with connection.execute_wrapper(record):
                work()
            if _is_open(connection):
                queries.insert(0, "connect")
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return queries


def _is_open(connection: Any) -> bool:
    return connection.connection is not None


@pytest.mark.parametrize(
    ("plan", "order_by"),
    [
        ("auto", "id"),
        ("auto", ("group_id", "id")),
        ("plain", "id"),
        ("merge", "id"),
        ("partition", ("group_id", "id")),
    ],
)
def test_constructing_a_wrapper_runs_no_query(
    plan: PlanName, order_by: str | tuple[str, ...]
) -> None:
    queryset = PlanRow.objects.filter(project_id=1, group_id__in=[1, 2, 3])

    queries = _in_a_fresh_connection(
        lambda: RangeQuerySetWrapper(
            queryset, order_by=order_by, plan=plan, check_index=False
        )
    )

    assert queries == []


def test_constructing_a_wrapper_over_every_shape_of_queryset_runs_no_query() -> None:
    def construct() -> None:
        RangeQuerySetWrapper(Entry.objects.all())
        RangeQuerySetWrapper(Entry.objects.values_list("id", flat=True), step=-10)
        RangeQuerySetWrapper(Entry.objects.filter(a__isnull=True), order_by=("a", "id"))
        RangeQuerySetWrapper(PlanRow.objects.filter(group_id__in=range(2000)))

    assert _in_a_fresh_connection(construct) == []


def test_constructing_a_range_between_two_cursors_runs_no_query() -> None:
    # A job's range task builds a wrapper from its checkpoint and its end:
    # the NULL phases and the upper bound are worked out without a query.
    EntryFactory.create_batch(4, a=None)
    EntryFactory.create_batch(4, a=7)
    walked = RangeQuerySetWrapper(Entry.objects.all(), order_by=("a", "id"), step=3)
    tokens = []
    for _ in walked:
        tokens.append(walked.cursor)
    after, until = tokens[1], tokens[-2]

    def construct() -> None:
        RangeQuerySetWrapper(
            Entry.objects.all(), order_by=("a", "id"), after=after, until=until
        )
        RangeQuerySetWrapper(Entry.objects.all(), order_by=("a", "id"), until=after)

    assert _in_a_fresh_connection(construct) == []


def test_importing_rangeqs_leaves_out_the_advisor_and_the_migration_machinery() -> None:
    script = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import rangeqs\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(_ROOT / "src"), str(_ROOT)]),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=_ROOT,
    )
    imported = json.loads(result.stdout)

    assert "rangeqs.wrapper" in imported
    assert [m for m in imported if m.startswith("rangeqs.advisor")] == []
    assert [m for m in imported if m.startswith("django.db.migrations")] == []
    assert [m for m in imported if m.endswith(".schema")] == []
    assert "rangeqs.operations" not in imported
