from __future__ import annotations

import re
from typing import Any

import pytest
from django.db.models import F

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from tests.testapp.models import Entry, TypedKey, Uniqueness


def raises(message: str) -> Any:
    return pytest.raises(InvalidQuerySetError, match=f"^{re.escape(message)}$")


def test_offset_slice_is_refused() -> None:
    with raises(
        "The queryset is sliced from offset 5, which keyset pagination does not "
        "use: remove the offset and start with min_id= or after=."
    ):
        RangeQuerySetWrapper(Entry.objects.all()[5:10])


@pytest.mark.parametrize(
    "queryset",
    [
        lambda: Entry.objects.order_by("b"),
        lambda: Entry.objects.extra(order_by=["b"]),
    ],
    ids=["order_by", "extra"],
)
def test_explicit_ordering_is_refused(queryset: Any) -> None:
    with raises(
        "The queryset has an explicit ordering, which the wrapper replaces with its "
        "keys: remove order_by() or extra(order_by=...) and pass order_by= to the "
        "wrapper instead."
    ):
        RangeQuerySetWrapper(queryset())


def test_distinct_is_refused() -> None:
    with raises(
        "The queryset uses distinct(), whose rows have no keys to page by: remove "
        "distinct() and filter the rows with __in on a subquery instead."
    ):
        RangeQuerySetWrapper(Entry.objects.distinct())


@pytest.mark.parametrize("combinator", ["union", "intersection", "difference"])
def test_combined_queries_are_refused(combinator: str) -> None:
    queryset = getattr(Entry.objects.filter(b=1), combinator)(Entry.objects.all())
    with raises(
        f"The queryset is a {combinator}() of querysets, which cannot be paged by "
        f"keys: iterate each queryset with its own wrapper."
    ):
        RangeQuerySetWrapper(queryset)


@pytest.mark.parametrize("step", [0, 1.5, True])
def test_step_must_be_a_nonzero_int(step: Any) -> None:
    with raises(
        f"step={step!r} is not a page size: pass a positive int, or a negative one "
        f"to iterate in descending order."
    ):
        RangeQuerySetWrapper(Entry.objects.all(), step=step)


def test_negative_limit_is_refused() -> None:
    with raises(
        "limit=-1 is negative: pass the number of rows to yield, or None for all "
        "of them."
    ):
        RangeQuerySetWrapper(Entry.objects.all(), limit=-1)


def test_unknown_field_is_refused() -> None:
    with raises(
        "order_by 'nope' is not a field of testapp.Entry: use one of its column "
        "names or 'pk'."
    ):
        RangeQuerySetWrapper(Entry.objects.all(), order_by="nope")


def test_relation_lookup_is_refused() -> None:
    with raises(
        "order_by 'owner__name' follows a relation, which keyset pagination cannot "
        "bound with an index on testapp_entry: order by columns of testapp.Entry "
        "only, foreign keys by their attname (e.g. 'group_id')."
    ):
        RangeQuerySetWrapper(Entry.objects.all(), order_by=("owner__name", "id"))


def test_reverse_relation_is_refused() -> None:
    from tests.testapp.models import Owner

    with raises(
        "order_by 'entry' is not a column of testapp.Owner: order by a concrete "
        "field such as a foreign key's attname."
    ):
        RangeQuerySetWrapper(Owner.objects.all(), order_by=("entry", "id"))


def test_empty_order_by_is_refused() -> None:
    with raises(
        "order_by is empty: pass a field name such as 'pk' or a sequence of names."
    ):
        RangeQuerySetWrapper(Entry.objects.all(), order_by=())


def test_repeated_key_is_refused() -> None:
    with raises("order_by names the column 'id' twice: list each field once."):
        RangeQuerySetWrapper(Entry.objects.all(), order_by=("pk", "id"))


def test_min_id_with_compound_keys_is_refused() -> None:
    # Sentry's tests match its words at the start of the message.
    with pytest.raises(InvalidQuerySetError, match=r"^min_id is not supported.*after="):
        RangeQuerySetWrapper(Entry.objects.all(), order_by=("b", "id"), min_id=3)


def test_non_unique_order_names_the_fields_and_both_fixes() -> None:
    with raises(
        "order_by ('b', '-a') is not unique on testapp.Entry, so rows with equal "
        "keys could be skipped or repeated: add 'pk' as the last key, or pass "
        "override_unique_safety_check=True to append it as a tie-breaker."
    ):
        RangeQuerySetWrapper(Entry.objects.all(), order_by=("b", "-a"))


@pytest.mark.parametrize(
    "order_by",
    [
        "pk",
        "id",
        "slug",
        ("x", "y"),
        ("y", "plain", "x"),
        ("q", "p"),
        ("-plain", "pk"),
    ],
)
def test_unique_orderings_are_accepted(order_by: Any) -> None:
    RangeQuerySetWrapper(Uniqueness.objects.all(), order_by=order_by)


@pytest.mark.parametrize(
    "order_by",
    [
        # Nullable unique column: many rows may hold NULL.
        "maybe",
        # UniqueConstraint over a nullable column.
        ("y", "r"),
        # Conditional UniqueConstraint: unique only where t = 0.
        "s",
        # Expression UniqueConstraint: unique on Lower(slug), not on t.
        "t",
        "x",
        "plain",
    ],
)
def test_non_unique_orderings_are_refused(order_by: Any) -> None:
    with pytest.raises(InvalidQuerySetError, match="is not unique on"):
        RangeQuerySetWrapper(Uniqueness.objects.all(), order_by=order_by)


def test_unknown_plan_is_refused() -> None:
    with raises(
        "plan='fast' is not a plan: use one of 'auto', 'plain', 'merge', 'partition'."
    ):
        RangeQuerySetWrapper(Entry.objects.all(), plan="fast")  # type: ignore[arg-type]


def test_rows_from_an_unknown_iterable_need_a_result_value_getter() -> None:
    queryset = Entry.objects.values("word")
    queryset._iterable_class = type("Custom", (queryset._iterable_class,), {})
    with raises(
        "The queryset yields rows through Custom, whose key values the wrapper "
        "cannot read: pass result_value_getter."
    ):
        RangeQuerySetWrapper(queryset)


@pytest.mark.django_db
def test_getter_returning_the_wrong_number_of_values_is_refused() -> None:
    Entry.objects.create(b=1)
    wrapper = RangeQuerySetWrapper(
        Entry.objects.values("id", "b"),
        order_by=("b", "id"),
        result_value_getter=lambda row: (row["b"],),
    )
    with raises(
        "result_value_getter returned 1 values for 2 order_by keys: return one "
        "value per key."
    ):
        list(wrapper)


@pytest.mark.django_db
def test_getter_returning_a_dict_without_a_key_is_refused() -> None:
    Entry.objects.create(b=1)
    wrapper = RangeQuerySetWrapper(
        Entry.objects.values("id", "b", twice=F("b") * 2),
        order_by=("b", "id"),
        result_value_getter=lambda row: {"b": row["b"], "pk": row["id"]},
    )
    with raises(
        "result_value_getter returned a dict without the key 'id': return a dict "
        "with every order_by key, by column name."
    ):
        list(wrapper)


@pytest.mark.django_db
def test_key_type_a_cursor_cannot_carry_is_refused_when_the_cursor_is_read() -> None:
    TypedKey.objects.create(blob=b"\x00\x01")
    wrapper = RangeQuerySetWrapper(
        TypedKey.objects.filter(blob__isnull=False),
        order_by="blob",
        override_unique_safety_check=True,
    )
    # Iterating needs no cursor; reading one does.
    rows = list(wrapper)
    assert len(rows) == 1
    with raises(
        "A cursor cannot carry a key of type bytes: order by columns of type int, "
        "str, bool, Decimal, UUID, date, datetime, time or float."
    ):
        _ = wrapper.cursor
