"""A guarded page is explained under the planner settings it ran with."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from benchmarks.measure import RecordedQuery, explain_page
from django.db import connection

from rangeqs._plans.bounded import SETTINGS_COMMENT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the guard's settings are PostgreSQL's",
    ),
    pytest.mark.django_db(transaction=True),
]

# A settings statement as the guard writes one, with settings whose effect
# shows in the query plan on any table: without index scans, the ordered
# read below sorts.
INDEX_SCANS_OFF = (
    f"{SETTINGS_COMMENT}SELECT current_setting('enable_indexscan'), "
    "set_config('enable_indexscan', 'off', true), "
    "set_config('enable_bitmapscan', 'off', true)"
)
# On a small table the planner reads it through the index, in order.
WHOLE_TABLE_IN_ORDER = "SELECT a, b FROM rangeqs_test_shuffled ORDER BY a"


@pytest.fixture
def shuffled_table() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE rangeqs_test_shuffled AS "
            "SELECT g AS a, md5(g::text) AS b FROM generate_series(1, 20000) AS g "
            "ORDER BY random()"
        )
        cursor.execute("CREATE INDEX ON rangeqs_test_shuffled (a)")
        cursor.execute("ANALYZE rangeqs_test_shuffled")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE rangeqs_test_shuffled")


def _page(*sql: str) -> list[RecordedQuery]:
    return [RecordedQuery(statement, None, 1, 0) for statement in sql]


@pytest.mark.usefixtures("shuffled_table")
def test_a_page_is_explained_under_the_settings_its_settings_statement_set() -> None:
    plain = explain_page(connection, _page(WHOLE_TABLE_IN_ORDER))
    guarded = explain_page(connection, _page(INDEX_SCANS_OFF, WHOLE_TABLE_IN_ORDER))

    assert not plain.sorts
    assert guarded.sorts


@pytest.mark.usefixtures("shuffled_table")
def test_explaining_a_guarded_page_leaves_the_session_settings_alone() -> None:
    explain_page(connection, _page(INDEX_SCANS_OFF, WHOLE_TABLE_IN_ORDER))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_indexscan'), "
            "current_setting('enable_bitmapscan')"
        )
        assert cursor.fetchone() == ("on", "on")
