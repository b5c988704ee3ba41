"""Retries on a real lock timeout: a second connection locks the table."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from django.db import DatabaseError, OperationalError, connection

from rangeqs import RangeQuerySetWrapper
from tests.core.factories import EntryFactory
from tests.testapp.models import Entry

if TYPE_CHECKING:
    from collections.abc import Iterator

TABLE = Entry._meta.db_table


def _second_connection() -> Any:
    """A connection of its own to the test database, outside Django."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
        )
    if connection.vendor == "mysql":
        import MySQLdb

        return MySQLdb.connect(
            host=db["HOST"],
            port=int(db["PORT"]),
            user=db["USER"],
            password=db["PASSWORD"],
            database=db["NAME"],
        )
    return sqlite3.connect(db["NAME"], uri=True, check_same_thread=False)


@pytest.fixture
def table_lock() -> Iterator[tuple[Any, Any]]:
    """(lock, release): lock the table from another connection, make waits short."""
    holder = _second_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET lock_timeout = '50ms'")
        elif connection.vendor == "mysql":
            cursor.execute("SET SESSION lock_wait_timeout = 1")

    def lock() -> None:
        cursor = holder.cursor()
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        elif connection.vendor == "mysql":
            cursor.execute(f"LOCK TABLES {TABLE} WRITE")
        else:
            # An uncommitted write locks the table for readers of the shared cache.
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(f"UPDATE {TABLE} SET b = b")

    def release() -> None:
        if connection.vendor == "mysql":
            holder.cursor().execute("UNLOCK TABLES")
        else:
            holder.rollback()

    yield lock, release
    holder.close()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("RESET lock_timeout")
        elif connection.vendor == "mysql":
            cursor.execute("SET SESSION lock_wait_timeout = DEFAULT")


@pytest.mark.django_db(transaction=True)
def test_retries_a_page_that_times_out_on_a_lock(table_lock: tuple[Any, Any]) -> None:
    lock, release = table_lock
    entries = EntryFactory.create_batch(4)
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), step=2, query_timeout_retries=5, retry_delay_seconds=0.5
    )

    def release_after_first_failure() -> None:
        # The failed attempt is counted before the wrapper waits to retry.
        while wrapper.queries < 1:
            time.sleep(0.01)
        release()

    lock()
    releaser = threading.Thread(target=release_after_first_failure)
    releaser.start()
    try:
        rows = list(wrapper)
    finally:
        releaser.join()
    assert [e.pk for e in rows] == [e.pk for e in entries]
    # One failed attempt, then two full pages and the empty one.
    assert wrapper.queries == 4


@pytest.mark.django_db(transaction=True)
def test_gives_up_after_the_last_retry(table_lock: tuple[Any, Any]) -> None:
    lock, release = table_lock
    EntryFactory.create_batch(2)
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), query_timeout_retries=2, retry_delay_seconds=0
    )
    lock()
    try:
        with pytest.raises(OperationalError):
            list(wrapper)
    finally:
        release()
    assert wrapper.queries == 3


@pytest.mark.django_db(transaction=True)
def test_without_retries_a_lock_timeout_propagates(table_lock: tuple[Any, Any]) -> None:
    lock, release = table_lock
    EntryFactory.create_batch(2)
    wrapper = RangeQuerySetWrapper(Entry.objects.all())
    lock()
    try:
        with pytest.raises(OperationalError):
            list(wrapper)
    finally:
        release()
    assert wrapper.queries == 1


# A statement each database refuses with an error other than OperationalError.
FAILING_WHERE: dict[str, tuple[str, list[Any]]] = {
    # DataError: division by zero.
    "postgresql": ("1 / (b - b) = 1", []),
    # ProgrammingError: table does not exist.
    "mysql": ("EXISTS (SELECT 1 FROM rangeqs_no_such_table)", []),
    # ProgrammingError: a placeholder with no value bound to it.
    "sqlite": ("b = ? OR b = ?", []),
}


@pytest.mark.django_db
def test_other_database_errors_are_not_retried(vendor: str) -> None:
    EntryFactory.create_batch(2)
    where, params = FAILING_WHERE[vendor]
    queryset = Entry.objects.extra(where=[where], params=params)
    wrapper = RangeQuerySetWrapper(
        queryset, query_timeout_retries=3, retry_delay_seconds=0
    )
    with pytest.raises(DatabaseError) as raised:
        list(wrapper)
    assert not isinstance(raised.value, OperationalError)
    assert wrapper.queries == 1
