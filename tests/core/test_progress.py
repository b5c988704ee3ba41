from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rangeqs import (
    RangeQuerySetWrapperWithProgressBar,
    RangeQuerySetWrapperWithProgressBarApprox,
)
from tests.core.factories import EntryFactory
from tests.testapp.models import Entry

pytestmark = pytest.mark.django_db


def test_progress_bar_counts_the_rows_first(capsys: Any) -> None:
    entries = EntryFactory.create_batch(5)
    wrapper = RangeQuerySetWrapperWithProgressBar(
        Entry.objects.filter(b__gte=0), step=2
    )
    with CaptureQueriesContext(connection) as captured:
        rows = list(wrapper)
    assert [e.pk for e in rows] == [e.pk for e in entries]
    assert "COUNT(" in captured.captured_queries[0]["sql"].upper()
    # One count, then three pages.
    assert len(captured) == wrapper.queries == 4
    assert "Entries: 100%|██████████| 5/5" in capsys.readouterr().err


def test_progress_bar_total_respects_the_limit(capsys: Any) -> None:
    EntryFactory.create_batch(5)
    wrapper = RangeQuerySetWrapperWithProgressBar(Entry.objects.all(), limit=3)
    assert len(list(wrapper)) == 3
    assert "3/3" in capsys.readouterr().err


def test_approximate_progress_bar_never_counts(vendor: str) -> None:
    EntryFactory.create_batch(5)
    wrapper = RangeQuerySetWrapperWithProgressBarApprox(Entry.objects.all(), step=10)
    with CaptureQueriesContext(connection) as captured:
        rows = list(wrapper)
    assert len(rows) == 5
    sqls = [query["sql"].upper() for query in captured.captured_queries]
    assert not [sql for sql in sqls if "COUNT(" in sql]
    # SQLite keeps no estimate: the bar runs without a total and no query.
    assert len(sqls) == (1 if vendor == "sqlite" else 2)
    total = RangeQuerySetWrapperWithProgressBarApprox(Entry.objects.all()).total()
    assert total is None if vendor == "sqlite" else isinstance(total, int)


def test_approximate_total_is_capped_by_a_slice(vendor: str) -> None:
    EntryFactory.create_batch(5)
    sliced = Entry.objects.filter(b__gte=0)[:4]
    total = RangeQuerySetWrapperWithProgressBarApprox(sliced).total()
    assert total is not None
    assert total == 4 if vendor == "sqlite" else 0 <= total <= 4
