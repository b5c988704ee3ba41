"""``until=``: a wrapper stops after the row a cursor token names, inclusive."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rangeqs import RangeQuerySetWrapper
from tests.core.test_properties import STEPS, entry_values, expected_order, orderings
from tests.testapp.models import Entry, Owner

PLANS = st.sampled_from(["auto", "plain"])


class UntilProperties(TestCase):
    def make(self, values: dict[str, Any], owners: list[Owner]) -> Entry:
        fields = dict(values)
        owner_index = fields.pop("owner_index")
        owner = None if owner_index is None else owners[owner_index]
        return Entry.objects.create(owner=owner, **fields)

    @given(
        rows=st.lists(entry_values(), min_size=1, max_size=12),
        ordering=orderings(),
        step=STEPS,
        bounds=st.tuples(
            st.integers(min_value=-1, max_value=11),
            st.integers(min_value=0, max_value=11),
        ),
    )
    def test_after_and_until_yield_the_rows_between_two_cursors(
        self,
        rows: list[dict[str, Any]],
        ordering: tuple[tuple[str, ...], bool],
        step: int,
        bounds: tuple[int, int],
    ) -> None:
        owners = [Owner.objects.create(name=name) for name in ("x", "y")]
        entries = [self.make(values, owners) for values in rows]
        order_by, implicit_pk = ordering
        options: dict[str, Any] = {
            "order_by": order_by,
            "override_unique_safety_check": implicit_pk,
        }
        full = RangeQuerySetWrapper(Entry.objects.all(), step=step, **options)
        cursors: list[str | None] = []
        yielded = []
        for entry in full:
            yielded.append(entry.pk)
            cursors.append(full.cursor)
        assert yielded == expected_order(entries, full.order_by)

        start, end = sorted(
            (min(bounds[0], len(rows) - 1), min(bounds[1], len(rows) - 1))
        )
        after = None if start < 0 else cursors[start]
        bounded = RangeQuerySetWrapper(
            Entry.objects.all(),
            step=step,
            after=after,
            until=cursors[end],
            **options,
        )
        assert [entry.pk for entry in bounded] == yielded[start + 1 : end + 1]


@pytest.mark.django_db
def test_until_runs_no_query_at_construction(
    django_assert_num_queries: Any,
) -> None:
    Entry.objects.create(b=1)
    wrapper = RangeQuerySetWrapper(Entry.objects.all())
    list(wrapper)
    token = wrapper.cursor
    with django_assert_num_queries(0):
        RangeQuerySetWrapper(Entry.objects.all(), until=token)


@pytest.mark.django_db
def test_until_leaves_out_the_null_phases_after_its_own(
    django_assert_num_queries: Any, vendor: str
) -> None:
    Entry.objects.create(a=None, b=1)
    first = Entry.objects.create(a=1, b=1)
    Entry.objects.create(a=2, b=1)
    probe = RangeQuerySetWrapper(
        Entry.objects.filter(pk=first.pk), order_by=("a", "id")
    )
    list(probe)
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), order_by=("a", "id"), until=probe.cursor, step=10
    )
    rows = list(wrapper)
    # NULLs sort first on SQLite and MariaDB, last on PostgreSQL.
    expected = [None, 1] if vendor != "postgresql" else [1]
    assert [entry.a for entry in rows] == expected
    assert wrapper.queries == len(expected)
