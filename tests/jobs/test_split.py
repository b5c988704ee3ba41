"""``split``: the wrappers over its ranges walk the queryset once, in order."""

from __future__ import annotations

import datetime
import itertools
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from rangeqs.jobs import split
from tests.core.test_properties import entry_values, expected_order, orderings
from tests.plans.test_core_properties import planned
from tests.testapp.models import Entry, Owner, TypedKey

if TYPE_CHECKING:
    from rangeqs._plans import PlanName

PARTS = st.integers(min_value=1, max_value=5)
STEPS = st.integers(min_value=1, max_value=4)


class SplitProperties(TestCase):
    owners: list[Owner]

    def setUp(self) -> None:
        super().setUp()
        self.owners = [Owner.objects.create(name=name) for name in ("x", "y")]

    def make(self, values: dict[str, Any]) -> Entry:
        fields = dict(values)
        owner_index = fields.pop("owner_index")
        owner = None if owner_index is None else self.owners[owner_index]
        return Entry.objects.create(owner=owner, **fields)

    def walk_ranges(
        self,
        queryset: Any,
        order_by: Any,
        implicit_pk: bool,
        parts: int,
        **options: Any,
    ) -> tuple[list[list[int]], tuple[str, ...]]:
        ranges = split(
            queryset,
            order_by=order_by,
            parts=parts,
            override_unique_safety_check=implicit_pk,
        )
        assert len(ranges) <= parts
        if ranges:
            assert ranges[0].after is None
            assert ranges[-1].until is None
        for before, following in itertools.pairwise(ranges):
            assert following.after == before.until is not None
        walked: list[list[int]] = []
        order: tuple[str, ...] = ()
        for key_range in ranges:
            wrapper = RangeQuerySetWrapper(
                queryset,
                order_by=order_by,
                override_unique_safety_check=implicit_pk,
                after=key_range.after,
                until=key_range.until,
                **options,
            )
            walked.append([entry.pk for entry in wrapper])
            order = wrapper.order_by
        return walked, order

    @given(
        rows=st.lists(entry_values(), max_size=14),
        ordering=orderings(),
        parts=PARTS,
        step=STEPS,
    )
    def test_ranges_cover_the_walk_once_in_order_for_any_keys(
        self,
        rows: list[dict[str, Any]],
        ordering: tuple[tuple[str, ...], bool],
        parts: int,
        step: int,
    ) -> None:
        entries = [self.make(values) for values in rows]
        order_by, implicit_pk = ordering
        walked, order = self.walk_ranges(
            Entry.objects.all(), order_by, implicit_pk, parts, step=step
        )
        if not entries:
            assert walked == []
            return
        assert all(walked), "a range was empty"
        flat = [pk for part in walked for pk in part]
        assert flat == expected_order(entries, order)
        assert flat == list(Entry.objects.order_by(*order).values_list("pk", flat=True))

    @given(
        rows=st.lists(entry_values(), max_size=12),
        setup=planned(),
        parts=PARTS,
        step=STEPS,
    )
    def test_ranges_cover_the_walk_once_in_order_under_every_plan(
        self,
        rows: list[dict[str, Any]],
        setup: tuple[PlanName, str, list[Any], tuple[str, ...], bool],
        parts: int,
        step: int,
    ) -> None:
        plan, column, listed, order_by, implicit_pk = setup
        entries = [self.make(values) for values in rows]
        queryset = Entry.objects.filter(**{f"{column}__in": listed})
        matching = [entry for entry in entries if getattr(entry, column) in listed]
        walked, order = self.walk_ranges(
            queryset, order_by, implicit_pk, parts, step=step, plan=plan
        )
        flat = [pk for part in walked for pk in part]
        if matching:
            assert flat == expected_order(matching, order)
            assert flat == list(queryset.order_by(*order).values_list("pk", flat=True))
        else:
            assert walked == []


@pytest.mark.django_db
def test_parts_hold_roughly_equal_rows_on_uniform_keys() -> None:
    Entry.objects.bulk_create(Entry(b=index % 7, a=index) for index in range(400))
    ranges = split(Entry.objects.all(), order_by=("a", "id"), parts=4)
    sizes = [
        len(
            list(
                RangeQuerySetWrapper(
                    Entry.objects.all(),
                    order_by=("a", "id"),
                    after=r.after,
                    until=r.until,
                )
            )
        )
        for r in ranges
    ]
    assert sum(sizes) == 400
    assert len(sizes) == 4
    assert max(sizes) <= 2 * min(sizes)


@pytest.mark.django_db
def test_text_keys_are_cut_by_a_strided_walk_into_equal_parts() -> None:
    owners = Owner.objects.bulk_create(
        Owner(name=f"n{index:04d}") for index in range(300)
    )
    assert len(owners) == 300
    ranges = split(Owner.objects.all(), order_by=("name", "id"), parts=3)
    sizes = [
        len(
            list(
                RangeQuerySetWrapper(
                    Owner.objects.all(),
                    order_by=("name", "id"),
                    after=r.after,
                    until=r.until,
                )
            )
        )
        for r in ranges
    ]
    assert sizes == [100, 100, 100]


@pytest.mark.django_db
def test_one_part_is_one_open_range_and_no_rows_no_range() -> None:
    assert split(Entry.objects.all(), parts=3) == []
    Entry.objects.create(b=1)
    (only,) = split(Entry.objects.all(), parts=1)
    assert (only.after, only.until) == (None, None)
    assert only.estimated_rows >= 1


@pytest.mark.django_db
def test_null_rows_of_a_nullable_leading_key_are_a_range_of_their_own() -> None:
    Entry.objects.bulk_create(
        Entry(a=None if index < 5 else index, b=1) for index in range(20)
    )
    ranges = split(Entry.objects.all(), order_by=("a", "id"), parts=3)
    walked = [
        [
            e.a
            for e in RangeQuerySetWrapper(
                Entry.objects.all(), order_by=("a", "id"), after=r.after, until=r.until
            )
        ]
        for r in ranges
    ]
    null_ranges = [part for part in walked if None in part]
    assert null_ranges == [[None] * 5]


@pytest.mark.django_db
def test_split_costs_a_few_statements_per_part(
    django_assert_max_num_queries: Any,
) -> None:
    Entry.objects.bulk_create(Entry(a=index, b=1) for index in range(1000))
    # Whether the NULL phase has rows, (on PostgreSQL) a look for a histogram,
    # min, max, then one bounded last-row query and one estimate per part.
    with django_assert_max_num_queries(1 + 1 + 2 + 2 * 8):
        assert len(split(Entry.objects.all(), order_by=("a", "id"), parts=8)) == 8


@pytest.mark.parametrize("parts", [0, -1, 1.5, True])
def test_parts_must_be_a_positive_int(parts: Any) -> None:
    with pytest.raises(InvalidQuerySetError, match="parts="):
        split(Entry.objects.all(), parts=parts)


def test_a_sliced_queryset_is_refused() -> None:
    with pytest.raises(InvalidQuerySetError, match="sliced"):
        split(Entry.objects.all()[:10], parts=2)


TYPED_VALUES = {
    "number": st.integers(min_value=-5, max_value=5),
    "text": st.sampled_from(["a", "ab", "b", "ba", "c"]),
    "flag": st.booleans(),
    "amount": st.decimals(min_value=-10, max_value=10, places=2),
    # MariaDB 10.10+ stores only RFC 4122 UUIDs in its uuid type.
    "token": st.uuids(version=4),
    "day": st.dates(
        min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2020, 3, 1)
    ),
    "moment": st.datetimes(
        min_value=datetime.datetime(2020, 1, 1),
        max_value=datetime.datetime(2020, 1, 3),
        timezones=st.just(datetime.timezone.utc),
    ).map(lambda moment: moment.replace(microsecond=0)),
    "ratio": st.floats(min_value=-100, max_value=100, allow_nan=False),
}


class SplitTypedKeyProperties(TestCase):
    @given(
        column=st.sampled_from(sorted(TYPED_VALUES)),
        data=st.data(),
        parts=st.integers(min_value=2, max_value=5),
        descending=st.booleans(),
    )
    def test_every_key_type_splits_into_ranges_django_orders_the_same_way(
        self, column: str, data: st.DataObject, parts: int, descending: bool
    ) -> None:
        values = data.draw(st.lists(st.none() | TYPED_VALUES[column], max_size=14))
        TypedKey.objects.bulk_create(TypedKey(**{column: value}) for value in values)
        order_by = (f"-{column}", "-id") if descending else (column, "id")
        ranges = split(TypedKey.objects.all(), order_by=order_by, parts=parts)
        walked = [
            pk
            for key_range in ranges
            for pk in RangeQuerySetWrapper(
                TypedKey.objects.values_list("pk", flat=True),
                order_by=order_by,
                after=key_range.after,
                until=key_range.until,
                step=3,
            )
        ]
        # Django's own evaluation of the same order on the same database.
        assert walked == list(
            TypedKey.objects.order_by(*order_by).values_list("pk", flat=True)
        )


@pytest.mark.django_db
def test_postgresql_cuts_an_analyzed_table_at_its_histogram_quantiles(
    vendor: str, django_assert_max_num_queries: Any
) -> None:
    if vendor != "postgresql":
        pytest.skip("pg_stats is PostgreSQL's")
    # Skewed: half the rows share one name prefix; equal widths would not help.
    Owner.objects.bulk_create(
        Owner(name=f"{'a' if index % 2 else 'b'}{index:05d}") for index in range(2000)
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Owner._meta.db_table}")
    # No COUNT and no OFFSET walk: the histogram, then per range its last row
    # and its estimate.
    with django_assert_max_num_queries(1 + 2 * 4):
        ranges = split(Owner.objects.all(), order_by=("name", "id"), parts=4)
    sizes = [
        len(
            list(
                RangeQuerySetWrapper(
                    Owner.objects.all(),
                    order_by=("name", "id"),
                    after=r.after,
                    until=r.until,
                )
            )
        )
        for r in ranges
    ]
    assert sum(sizes) == 2000
    assert len(sizes) == 4
    assert max(sizes) <= 2 * min(sizes)
