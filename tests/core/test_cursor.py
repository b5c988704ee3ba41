from __future__ import annotations

import datetime
import decimal
import time
import uuid
from typing import Any

import pytest
from django.core import signing

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from tests.core.factories import EntryFactory, TypedKeyFactory
from tests.testapp.models import Entry, Owner, TypedKey

pytestmark = pytest.mark.django_db

INVALID_TOKEN = (
    "The cursor token is invalid, altered, or made for another model or ordering: "
    "pass a token read from wrapper.cursor of a wrapper with the same model and "
    "order_by."
)


def test_cursor_is_none_before_the_first_row() -> None:
    assert RangeQuerySetWrapper(Entry.objects.all()).cursor is None


def test_resumes_strictly_after_the_cursor() -> None:
    entries = EntryFactory.create_batch(7)
    first = RangeQuerySetWrapper(Entry.objects.all(), step=2)
    iterator = iter(first)
    seen = [next(iterator).pk for _ in range(3)]
    token = first.cursor
    assert token is not None
    rest = [
        e.pk for e in RangeQuerySetWrapper(Entry.objects.all(), step=2, after=token)
    ]
    assert seen + rest == [e.pk for e in entries]


def test_cursor_names_the_last_row_of_a_batch() -> None:
    entries = EntryFactory.create_batch(5)
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=2)
    first_batch = next(iter(wrapper.batches()))
    assert [e.pk for e in first_batch] == [e.pk for e in entries[:2]]
    resumed = RangeQuerySetWrapper(Entry.objects.all(), after=wrapper.cursor)
    assert [e.pk for e in resumed] == [e.pk for e in entries[2:]]


def test_resumed_wrapper_reports_its_start_as_cursor() -> None:
    EntryFactory.create_batch(2)
    wrapper = RangeQuerySetWrapper(Entry.objects.all())
    list(wrapper)
    resumed = RangeQuerySetWrapper(Entry.objects.all(), after=wrapper.cursor)
    assert resumed.cursor == wrapper.cursor
    assert list(resumed) == []


@pytest.mark.parametrize("stop_after", [1, 2, 3, 4, 5])
def test_resumes_across_null_phases(stop_after: int) -> None:
    entries = [
        EntryFactory.create(a=a, b=b)
        for a, b in [(None, 1), (2, 0), (None, 0), (1, 1), (2, 1)]
    ]
    order = ("a", "b", "id")
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=order)
    full = [e.pk for e in wrapper]
    assert sorted(full) == sorted(e.pk for e in entries)
    partial = RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=order)
    iterator = iter(partial)
    head = [next(iterator).pk for _ in range(stop_after)]
    tail = [
        e.pk
        for e in RangeQuerySetWrapper(
            Entry.objects.all(), step=2, order_by=order, after=partial.cursor
        )
    ]
    assert head + tail == full


def test_resumes_after_a_position_in_a_phase_the_filter_skips(vendor: str) -> None:
    owner = Owner.objects.create()
    orphan, owned = EntryFactory.create(owner=None), EntryFactory.create(owner=owner)
    order = ("owner_id", "id")
    everything = RangeQuerySetWrapper(
        Entry.objects.filter(pk=orphan.pk), order_by=order
    )
    list(everything)
    only_owned = Entry.objects.filter(owner_id__in=[owner.pk])
    resumed = RangeQuerySetWrapper(only_owned, order_by=order, after=everything.cursor)
    # NULL sorts after every owner on PostgreSQL, before them elsewhere.
    assert [e.pk for e in resumed] == ([] if vendor == "postgresql" else [owned.pk])


def test_tampered_token_is_refused() -> None:
    EntryFactory.create_batch(2)
    wrapper = RangeQuerySetWrapper(Entry.objects.all())
    next(iter(wrapper))
    token = wrapper.cursor
    assert token is not None
    tampered = token.replace(token[2], "A" if token[2] != "A" else "B", 1)
    with pytest.raises(InvalidQuerySetError, match=f"^{INVALID_TOKEN}$"):
        RangeQuerySetWrapper(Entry.objects.all(), after=tampered)


def test_token_of_another_ordering_is_refused() -> None:
    EntryFactory.create_batch(2)
    wrapper = RangeQuerySetWrapper(Entry.objects.all())
    next(iter(wrapper))
    with pytest.raises(InvalidQuerySetError, match=f"^{INVALID_TOKEN}$"):
        RangeQuerySetWrapper(Entry.objects.all(), order_by="-id", after=wrapper.cursor)


def test_token_of_another_model_is_refused() -> None:
    EntryFactory.create_batch(2)
    wrapper = RangeQuerySetWrapper(Entry.objects.all())
    next(iter(wrapper))
    with pytest.raises(InvalidQuerySetError, match=f"^{INVALID_TOKEN}$"):
        RangeQuerySetWrapper(Owner.objects.all(), after=wrapper.cursor)


def test_token_signed_elsewhere_is_refused() -> None:
    forged = signing.dumps([["i", 1]], salt="something else")
    with pytest.raises(InvalidQuerySetError, match=f"^{INVALID_TOKEN}$"):
        RangeQuerySetWrapper(Entry.objects.all(), after=forged)


def test_token_is_url_safe() -> None:
    TypedKeyFactory.create(text="a/b+c d?e&f=g")
    wrapper = RangeQuerySetWrapper(
        TypedKey.objects.filter(text__isnull=False),
        order_by="text",
        override_unique_safety_check=True,
    )
    next(iter(wrapper))
    token = wrapper.cursor
    assert token is not None
    assert set(token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:"
    )


AWARE = datetime.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=datetime.timezone.utc)

TYPED_VALUES: list[tuple[str, Any]] = [
    ("number", -(2**31)),
    ("text", "Ünïcode ✓"),
    ("flag", True),
    ("flag", False),
    ("amount", decimal.Decimal("12345678.0001")),
    ("token", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    ("day", datetime.date(1999, 12, 31)),
    ("moment", AWARE),
    ("ratio", 0.1),
]


def _resumed_by(field: str, token: str | None) -> RangeQuerySetWrapper[TypedKey]:
    return RangeQuerySetWrapper(
        TypedKey.objects.all(),
        order_by=field,
        override_unique_safety_check=True,
        after=token,
    )


@pytest.mark.parametrize(("field", "value"), TYPED_VALUES)
def test_key_values_round_trip_through_the_cursor_exactly(
    field: str, value: Any, vendor: str
) -> None:
    row = TypedKeyFactory.create(**{field: value})
    null_row = TypedKeyFactory.create()
    wrapper = RangeQuerySetWrapper(
        TypedKey.objects.filter(pk=row.pk),
        order_by=field,
        override_unique_safety_check=True,
    )
    list(wrapper)
    resumed = _resumed_by(field, wrapper.cursor)
    assert resumed._start == (value, row.pk)
    assert type(resumed._start[0]) is type(value)
    # Only the NULL row can follow the greatest value, where NULLs sort last.
    expected = [null_row.pk] if vendor == "postgresql" else []
    assert [r.pk for r in resumed] == expected


def test_naive_datetime_and_none_round_trip(settings: Any) -> None:
    settings.USE_TZ = False
    naive = datetime.datetime(2024, 1, 2, 3, 4, 5, 678901)
    first = TypedKeyFactory.create(moment=naive)
    TypedKeyFactory.create(moment=None)
    wrapper = RangeQuerySetWrapper(TypedKey.objects.all(), order_by=("moment", "id"))
    positions: dict[int, tuple[Any, ...]] = {}
    for row in wrapper:
        resumed = RangeQuerySetWrapper(
            TypedKey.objects.all(), order_by=("moment", "id"), after=wrapper.cursor
        )
        assert resumed._start is not None
        positions[row.pk] = resumed._start
    assert positions[first.pk] == (naive, first.pk)
    assert positions[first.pk][0].tzinfo is None
    assert [value for value, _ in positions.values() if value is None] == [None]


@pytest.mark.parametrize("order", [("pk",), ("b", "pk")])
def test_cursor_names_the_received_row_after_the_caller_changes_it(
    order: tuple[str, ...],
) -> None:
    # A deletion task deletes each row it receives, and delete() sets the pk
    # to None: the cursor must still name the row as it was fetched.
    entries = [EntryFactory.create(b=b) for b in (3, 1, 2, 1, 3)]
    expected = [
        e.pk
        for e in sorted(entries, key=lambda e: (e.b, e.pk) if order[0] == "b" else e.pk)
    ]
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=order)
    received = []
    for entry in wrapper:
        received.append(entry.pk)
        entry.b = 0
        entry.delete()
        if len(received) == 3:
            break
    rest = RangeQuerySetWrapper(
        Entry.objects.all(), step=2, order_by=order, after=wrapper.cursor
    )
    assert received + [e.pk for e in rest] == expected


def test_cursor_names_each_row_as_it_is_received_and_the_last_one_in_callbacks() -> (
    None
):
    entries = EntryFactory.create_batch(5)
    cursors_in_callbacks: list[str | None] = []

    def record_cursor(rows: list[Entry]) -> None:
        cursors_in_callbacks.append(wrapper.cursor)

    wrapper: RangeQuerySetWrapper[Entry] = RangeQuerySetWrapper(
        Entry.objects.all(), step=2, callbacks=[record_cursor]
    )
    cursors = []
    for _ in wrapper:
        cursors.append(wrapper.cursor)
    resumed_after = [
        [e.pk for e in RangeQuerySetWrapper(Entry.objects.all(), after=token)]
        for token in cursors
    ]
    pks = [e.pk for e in entries]
    assert resumed_after == [pks[index + 1 :] for index in range(5)]
    # A callback runs before its page's rows are handed out.
    assert cursors_in_callbacks == [None, cursors[1], cursors[3]]


@pytest.mark.parametrize(("field", "value"), TYPED_VALUES)
def test_key_values_read_from_fetched_pages_have_the_field_types(
    field: str, value: Any
) -> None:
    # After the first page, keys are read from the values the database
    # returned, through the field's converters: they must equal what the
    # instance itself holds, type included.
    rows = [TypedKeyFactory.create(**{field: value}) for _ in range(3)]
    wrapper = RangeQuerySetWrapper(
        TypedKey.objects.filter(pk__in=[row.pk for row in rows]),
        order_by=field,
        step=1,
        override_unique_safety_check=True,
    )
    seen = []
    for row in wrapper:
        resumed = _resumed_by(field, wrapper.cursor)
        assert resumed._start == (value, row.pk)
        assert type(resumed._start[0]) is type(value)
        seen.append(row.pk)
    assert seen == [row.pk for row in rows]


def test_one_position_gives_one_token_whenever_it_is_read() -> None:
    # Tokens are compared and stored as checkpoints: a token must not carry
    # the time it was made (signing.dumps would, to the second).
    EntryFactory.create_batch(3)
    first = RangeQuerySetWrapper(Entry.objects.all(), step=2)
    next(iter(first))
    early = first.cursor
    time.sleep(1.1)
    second = RangeQuerySetWrapper(Entry.objects.all(), step=2)
    next(iter(second))
    assert second.cursor == early
