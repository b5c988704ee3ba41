from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from rangeqs import RangeQuerySetWrapper
from tests.compiled_pages import compiled_only
from tests.core.factories import EntryFactory, OwnerFactory
from tests.testapp.models import Entry, ShownEntry

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries

pytestmark = pytest.mark.django_db


def pks(rows: Any) -> list[int]:
    return [row.pk for row in rows]


def all_pks() -> list[int]:
    return sorted(Entry.objects.values_list("pk", flat=True))


def test_yields_every_row_once_in_pk_order_one_query_per_page(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    EntryFactory.create_batch(10)
    # 10 rows in pages of 3: three full pages and a short one that ends it.
    with django_assert_num_queries(4):
        rows = list(RangeQuerySetWrapper(Entry.objects.all(), step=3))
    assert pks(rows) == all_pks()


def test_full_last_page_costs_one_empty_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    EntryFactory.create_batch(6)
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=3)
    with django_assert_num_queries(3):
        assert len(list(wrapper)) == 6
    assert wrapper.queries == 3


def test_empty_queryset_costs_one_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(1):
        assert list(RangeQuerySetWrapper(Entry.objects.all())) == []


def test_pages_use_limit_and_never_offset() -> None:
    EntryFactory.create_batch(5)
    with CaptureQueriesContext(connection) as captured:
        list(RangeQuerySetWrapper(Entry.objects.all(), step=2))
    sqls = [query["sql"].upper() for query in captured.captured_queries]
    assert len(sqls) == 3
    assert all("LIMIT 2" in sql and "OFFSET" not in sql for sql in sqls)


def test_negative_step_iterates_in_descending_order() -> None:
    EntryFactory.create_batch(7)
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=-2)
    assert pks(wrapper) == all_pks()[::-1]
    assert wrapper.order_by == ("-id",)
    assert wrapper.step == 2


def test_negative_step_reverses_every_key() -> None:
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), step=-5, order_by=("-b", "id"))
    assert wrapper.order_by == ("b", "-id")


def test_model_default_ordering_is_replaced_by_the_keys() -> None:
    entries = EntryFactory.create_batch(5)
    assert Entry._meta.ordering == ["-b"]
    assert pks(RangeQuerySetWrapper(Entry.objects.all(), step=2)) == [
        e.pk for e in entries
    ]


def test_filters_of_the_queryset_are_kept() -> None:
    entries = EntryFactory.create_batch(9)
    expected = [e.pk for e in entries if e.b == 1]
    rows = RangeQuerySetWrapper(Entry.objects.filter(b=1), step=2)
    assert pks(rows) == expected


def test_limit_caps_the_rows_and_the_last_page_size() -> None:
    EntryFactory.create_batch(10)
    with CaptureQueriesContext(connection) as captured:
        rows = list(RangeQuerySetWrapper(Entry.objects.all(), step=4, limit=6))
    assert pks(rows) == all_pks()[:6]
    sqls = [query["sql"].upper() for query in captured.captured_queries]
    assert ["LIMIT 4" in sqls[0], "LIMIT 2" in sqls[1]] == [True, True]
    assert len(sqls) == 2


def test_limit_zero_yields_nothing_without_a_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    EntryFactory.create_batch(2)
    with django_assert_num_queries(0):
        assert list(RangeQuerySetWrapper(Entry.objects.all(), limit=0)) == []


def test_slice_without_offset_acts_as_limit() -> None:
    EntryFactory.create_batch(5)
    wrapper = RangeQuerySetWrapper(Entry.objects.all()[:3], step=2)
    assert wrapper.limit == 3
    assert pks(wrapper) == all_pks()[:3]


def test_min_id_is_an_inclusive_start() -> None:
    EntryFactory.create_batch(6)
    ids = all_pks()
    assert pks(RangeQuerySetWrapper(Entry.objects.all(), min_id=ids[2])) == ids[2:]
    assert (
        pks(RangeQuerySetWrapper(Entry.objects.all(), min_id=ids[2], step=-2))
        == ids[:3][::-1]
    )


def test_min_id_on_a_nullable_key_keeps_the_nulls_that_sort_after_it(
    vendor: str,
) -> None:
    for a in (None, 1, 2, 3):
        EntryFactory.create(a=a)
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), order_by="a", min_id=2, override_unique_safety_check=True
    )
    values = [entry.a for entry in wrapper]
    # PostgreSQL sorts NULL after every value; SQLite and MariaDB before.
    assert values == ([2, 3, None] if vendor == "postgresql" else [2, 3])


def test_compound_keys_with_duplicates_in_the_leading_key() -> None:
    entries = [EntryFactory.create(b=b) for b in (2, 1, 2, 1, 2, 0, 1)]
    rows = RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=("b", "id"))
    expected = sorted(entries, key=lambda e: (e.b, e.pk))
    assert pks(rows) == [e.pk for e in expected]


def test_mixed_directions() -> None:
    entries = [EntryFactory.create(b=b) for b in (2, 1, 2, 1, 2, 0, 1)]
    rows = RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=("-b", "id"))
    expected = sorted(entries, key=lambda e: (-e.b, e.pk))
    assert pks(rows) == [e.pk for e in expected]


def test_compound_keys_in_one_direction_use_a_row_value_comparison(
    vendor: str,
) -> None:
    EntryFactory.create_batch(4, b=1)
    with CaptureQueriesContext(connection) as captured:
        list(RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=("b", "id")))
    second_page = captured.captured_queries[1]["sql"]
    b, pk = (connection.ops.quote_name(name) for name in ("b", "id"))
    row_value = f"({connection.ops.quote_name('testapp_entry')}.{b}, "
    if vendor == "mysql":
        # MariaDB does not bound an index scan with a row value: the
        # expansion's leading term does it.
        assert row_value not in second_page
        assert f".{b} >= " in second_page
    else:
        assert row_value in second_page
        assert f".{pk}) > (" in second_page


def test_override_unique_safety_check_appends_the_pk_as_tie_breaker() -> None:
    entries = [EntryFactory.create(b=b) for b in (1, 1, 1, 0, 1, 1)]
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), step=2, order_by="b", override_unique_safety_check=True
    )
    assert wrapper.order_by == ("b", "id")
    assert pks(wrapper) == [e.pk for e in sorted(entries, key=lambda e: (e.b, e.pk))]


def test_descending_tie_breaker_follows_the_last_key() -> None:
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), order_by="-b", override_unique_safety_check=True
    )
    assert wrapper.order_by == ("-b", "-id")


def test_pk_and_foreign_key_attnames_are_normalized() -> None:
    wrapper = RangeQuerySetWrapper(Entry.objects.all(), order_by=("owner", "pk"))
    assert wrapper.order_by == ("owner_id", "id")


def test_foreign_key_attname_orders_by_the_column() -> None:
    owners = [OwnerFactory.create(name=name) for name in ("z", "a")]
    entries = [EntryFactory.create(owner=owners[i % 2]) for i in range(5)]
    rows = RangeQuerySetWrapper(
        Entry.objects.all(), step=2, order_by=("owner_id", "id")
    )
    expected = sorted(entries, key=lambda e: (e.owner_id, e.pk))
    assert pks(rows) == [e.pk for e in expected]


def test_nullable_key_yields_nulls_once_where_the_database_puts_them(
    vendor: str,
) -> None:
    entries = [EntryFactory.create(a=a) for a in (3, None, 1, None, 2, None)]
    rows = list(RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=("a", "id")))
    null_pks = [e.pk for e in entries if e.a is None]
    value_pks = [e.pk for e in sorted(entries, key=lambda e: e.a or 0) if e.a]
    expected = value_pks + null_pks if vendor == "postgresql" else null_pks + value_pks
    assert pks(rows) == expected


def test_non_null_part_of_a_nullable_key_has_no_is_null_alternative() -> None:
    for a in (1, 2, 3, 4):
        EntryFactory.create(a=a)
    with CaptureQueriesContext(connection) as captured:
        list(RangeQuerySetWrapper(Entry.objects.all(), step=2, order_by=("a", "id")))
    sqls = [query["sql"].upper() for query in captured.captured_queries]
    non_null_scan = [sql for sql in sqls if "IS NOT NULL" in sql]
    assert len(non_null_scan) == 3
    assert not [sql for sql in non_null_scan if "IS NULL" in sql]


@pytest.mark.parametrize(
    "excluding_null",
    [
        lambda owners: {"owner_id__in": [o.pk for o in owners]},
        lambda owners: {"owner__id__in": [o.pk for o in owners]},
        lambda owners: {"owner__in": owners},
        lambda owners: {"owner": owners[0]},
        lambda owners: {"owner_id__gte": owners[0].pk},
        lambda owners: {"owner__isnull": False},
    ],
    ids=["attname_in", "related_id_in", "related_in", "exact", "range", "isnull"],
)
def test_null_phase_is_skipped_when_the_filter_excludes_null(
    excluding_null: Any,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    owners = OwnerFactory.create_batch(2)
    EntryFactory.create_batch(3, owner=owners[0])
    EntryFactory.create_batch(2, owner=None)
    queryset = Entry.objects.filter(**excluding_null(owners))
    # One short page of the non-null phase; no query for the NULL phase.
    with django_assert_num_queries(1):
        rows = list(
            RangeQuerySetWrapper(queryset, step=10, order_by=("owner_id", "id"))
        )
    assert len(rows) == 3


def test_null_phase_is_queried_when_the_filter_allows_null(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    EntryFactory.create_batch(3, owner=OwnerFactory.create())
    EntryFactory.create_batch(2, owner=None)
    with django_assert_num_queries(2):
        rows = list(
            RangeQuerySetWrapper(
                Entry.objects.filter(b__gte=0), step=10, order_by=("owner_id", "id")
            )
        )
    assert len(rows) == 5


def test_values_rows_keep_the_callers_shape() -> None:
    entries = EntryFactory.create_batch(5)
    expected = sorted(entries, key=lambda e: (-e.b, e.pk))
    queryset = Entry.objects.values("word")
    rows = list(RangeQuerySetWrapper(queryset, step=2, order_by=("-b", "id")))
    assert rows == [{"word": e.word} for e in expected]


def test_values_with_annotations_keep_the_callers_shape() -> None:
    entries = EntryFactory.create_batch(3)
    queryset = Entry.objects.values("word", twice=F("b") * 2)
    rows = list(RangeQuerySetWrapper(queryset, step=2))
    assert rows == [{"word": e.word, "twice": e.b * 2} for e in entries]


def test_values_list_rows_keep_the_callers_shape() -> None:
    entries = EntryFactory.create_batch(5)
    rows = list(RangeQuerySetWrapper(Entry.objects.values_list("word", "b"), step=2))
    assert rows == [(e.word, e.b) for e in entries]


def test_flat_values_list_rows_keep_the_callers_shape() -> None:
    entries = EntryFactory.create_batch(5)
    queryset = Entry.objects.values_list("word", flat=True)
    rows = list(RangeQuerySetWrapper(queryset, step=2, order_by="-id"))
    assert rows == [e.word for e in reversed(entries)]


def test_named_values_list_rows_keep_the_callers_shape() -> None:
    entries = EntryFactory.create_batch(4)
    queryset = Entry.objects.values_list("word", "b", named=True)
    rows = list(RangeQuerySetWrapper(queryset, step=3))
    assert [(row.word, row.b) for row in rows] == [(e.word, e.b) for e in entries]
    assert all(row._fields == ("word", "b") for row in rows)


def test_model_rows_carry_no_extra_attributes() -> None:
    EntryFactory.create_batch(2)
    row = next(iter(RangeQuerySetWrapper(Entry.objects.all(), order_by=("b", "id"))))
    assert not [name for name in vars(row) if name.startswith("rangeqs")]


def test_result_value_getter_reads_the_key_of_a_single_key_order() -> None:
    entries = EntryFactory.create_batch(5)
    queryset = Entry.objects.values_list("id", "word")
    read: list[Any] = []

    def getter(row: tuple[int, str]) -> int:
        read.append(row)
        return row[0]

    rows = list(RangeQuerySetWrapper(queryset, step=2, result_value_getter=getter))
    assert rows == [(e.pk, e.word) for e in entries]
    # It sees the caller's rows, and the last row of each full page gives
    # the position the next page starts after.
    assert set(read) <= set(rows)
    assert {rows[1], rows[3]} <= set(read)


def test_result_value_getter_with_the_sentry_tie_breaker_idiom() -> None:
    entries = [EntryFactory.create(b=b) for b in (1, 0, 1, 0, 1)]
    queryset = Entry.objects.values_list("id", "b")
    wrapper = RangeQuerySetWrapper(
        queryset,
        step=2,
        order_by="b",
        override_unique_safety_check=True,
        result_value_getter=lambda item: item[1],
    )
    expected = sorted(entries, key=lambda e: (e.b, e.pk))
    assert list(wrapper) == [(e.pk, e.b) for e in expected]


@pytest.mark.parametrize(
    "getter",
    [lambda row: (row["b"], row["id"]), lambda row: {"b": row["b"], "id": row["id"]}],
    ids=["tuple", "dict"],
)
def test_result_value_getter_for_compound_keys(getter: Any) -> None:
    entries = [EntryFactory.create(b=b) for b in (1, 0, 1, 0, 1)]
    wrapper = RangeQuerySetWrapper(
        Entry.objects.values("id", "b"),
        step=2,
        order_by=("b", "id"),
        result_value_getter=getter,
    )
    expected = sorted(entries, key=lambda e: (e.b, e.pk))
    assert [row["id"] for row in wrapper] == [e.pk for e in expected]


def test_callbacks_see_each_batch_before_its_rows() -> None:
    EntryFactory.create_batch(5)
    events: list[Any] = []
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), step=2, callbacks=[lambda batch: events.append(pks(batch))]
    )
    for entry in wrapper:
        events.append(entry.pk)
    ids = all_pks()
    assert events == [
        ids[0:2],
        ids[0],
        ids[1],
        ids[2:4],
        ids[2],
        ids[3],
        ids[4:],
        ids[4],
    ]


def test_batches_put_every_row_in_exactly_one_batch() -> None:
    EntryFactory.create_batch(7)
    seen: list[list[int]] = []
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), step=3, callbacks=[lambda batch: seen.append(pks(batch))]
    )
    batches = [pks(batch) for batch in wrapper.batches()]
    ids = all_pks()
    assert batches == [ids[0:3], ids[3:6], ids[6:]]
    assert seen == batches


def test_loop_body_may_delete_each_row() -> None:
    EntryFactory.create_batch(7)
    for entry in RangeQuerySetWrapper(Entry.objects.all(), step=2):
        entry.delete()
    assert not Entry.objects.exists()


def test_loop_body_may_move_a_row_past_the_position() -> None:
    entries = [EntryFactory.create(b=i) for i in range(6)]
    seen = []
    for entry in RangeQuerySetWrapper(
        Entry.objects.all(), step=2, order_by=("b", "id")
    ):
        seen.append(entry.pk)
        # Moving the row behind the position must not bring it back.
        Entry.objects.filter(pk=entry.pk).update(b=entry.b - 100)
    assert seen == [e.pk for e in entries]


def test_the_callers_queryset_is_left_unchanged() -> None:
    EntryFactory.create_batch(3)
    queryset = Entry.objects.all()[:2]
    list(RangeQuerySetWrapper(queryset))
    assert queryset.query.high_mark == 2
    assert len(queryset) == 2


def test_plan_auto_resolves_to_plain() -> None:
    wrapper = RangeQuerySetWrapper(Entry.objects.all())
    assert wrapper.plan == "plain"
    assert RangeQuerySetWrapper(Entry.objects.all(), plan="plain").plan == "plain"


def test_limit_spans_null_phases(vendor: str) -> None:
    entries = [EntryFactory.create(a=a) for a in (None, 1, None, 2)]
    wrapper = RangeQuerySetWrapper(
        Entry.objects.all(), step=2, limit=3, order_by=("a", "id")
    )
    batches = [pks(batch) for batch in wrapper.batches()]
    nulls = [entries[0].pk, entries[2].pk]
    values = [entries[1].pk, entries[3].pk]
    everything = values + nulls if vendor == "postgresql" else nulls + values
    assert batches == [everything[:2], everything[2:3]]


def test_min_id_and_after_together_start_at_the_later_of_both() -> None:
    EntryFactory.create_batch(6)
    ids = all_pks()
    first = RangeQuerySetWrapper(Entry.objects.all(), limit=4)
    list(first)
    resumed = RangeQuerySetWrapper(
        Entry.objects.all(), min_id=ids[1], after=first.cursor
    )
    assert pks(resumed) == ids[4:]
    early = RangeQuerySetWrapper(Entry.objects.all(), limit=1)
    list(early)
    bounded = RangeQuerySetWrapper(
        Entry.objects.all(), min_id=ids[3], after=early.cursor
    )
    assert pks(bounded) == ids[3:]


@compiled_only
def test_model_rows_are_made_as_the_caller_reaches_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A page's instances made all at once live through several garbage
    # collections; made one by one, as iterator() makes them, each is freed
    # before the next. Counted through Django's own hook for a loaded row.
    EntryFactory.create_batch(10)
    made: list[Any] = []
    from_db = Entry.from_db.__func__  # type: ignore[attr-defined]

    def counting_from_db(cls: type[Entry], *args: Any, **kwargs: Any) -> Entry:
        made.append(args)
        instance: Entry = from_db(cls, *args, **kwargs)
        return instance

    monkeypatch.setattr(Entry, "from_db", classmethod(counting_from_db))
    rows = iter(RangeQuerySetWrapper(Entry.objects.all(), step=5))
    received = [next(rows) for _ in range(3)]

    # Only the rows received, not the rest of their page, and not the page's
    # last row for the next position: that is read from the fetched values.
    assert len(received) == 3
    assert len(made) == 3


@pytest.mark.parametrize("order", [("b", "id"), ("-b", "id")])
def test_positions_come_from_the_database_not_from_what_from_db_shows(
    order: tuple[str, ...],
) -> None:
    entries = [EntryFactory.create(b=b) for b in (3, 1, 4, 1, 5, 9, 2, 6)]
    descending = order[0].startswith("-")
    expected = sorted(entries, key=lambda e: (-e.b if descending else e.b, e.pk))

    rows = list(RangeQuerySetWrapper(ShownEntry.objects.all(), order_by=order, step=3))

    assert [row.pk for row in rows] == [entry.pk for entry in expected]
    assert [row.b for row in rows] == [-entry.b for entry in expected]


def test_prefetched_relations_reach_the_rows_of_every_page(
    django_assert_num_queries: Any,
) -> None:
    owners = OwnerFactory.create_batch(2)
    for index in range(6):
        EntryFactory.create(owner=owners[index % 2])
    wrapper = RangeQuerySetWrapper(Entry.objects.prefetch_related("owner"), step=2)

    # Each of the 4 pages (the last one empty): its rows, then their owners.
    with django_assert_num_queries(7):
        names = [entry.owner and entry.owner.name for entry in wrapper]

    assert names == [owners[index % 2].name for index in range(6)]
