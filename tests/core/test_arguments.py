"""Every argument is checked at construction, naming the argument and the fix."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from tests.core.factories import EntryFactory, OwnerFactory
from tests.testapp.models import Entry


def refused(argument: str) -> Any:
    """The refusal names the argument (its wording is the message's business)."""
    return pytest.raises(InvalidQuerySetError, match=argument)


@pytest.mark.parametrize("order_by", [None, 3, {"pk"}, ("pk", None), [b"id"]])
def test_order_by_must_be_names(order_by: Any) -> None:
    with refused("order_by"):
        RangeQuerySetWrapper(Entry.objects.all(), order_by=order_by)


@pytest.mark.parametrize("limit", ["5", 1.5, True, -1])
def test_limit_must_be_a_non_negative_int(limit: Any) -> None:
    with refused("limit="):
        RangeQuerySetWrapper(Entry.objects.all(), limit=limit)


@pytest.mark.parametrize("retries", ["3", 1.0, True, -1])
def test_query_timeout_retries_must_be_a_non_negative_int(retries: Any) -> None:
    with refused("query_timeout_retries="):
        RangeQuerySetWrapper(Entry.objects.all(), query_timeout_retries=retries)


@pytest.mark.parametrize("delay", ["0.5", None, True, -0.1, float("nan")])
def test_retry_delay_seconds_must_be_a_non_negative_number(delay: Any) -> None:
    with refused("retry_delay_seconds="):
        RangeQuerySetWrapper(Entry.objects.all(), retry_delay_seconds=delay)


@pytest.mark.parametrize("callbacks", [print, None, "print", 1])
def test_callbacks_must_be_an_iterable(callbacks: Any) -> None:
    with refused("callbacks="):
        RangeQuerySetWrapper(Entry.objects.all(), callbacks=callbacks)


@pytest.mark.parametrize("callbacks", [[1], [print, None]])
def test_each_callback_must_be_callable(callbacks: Any) -> None:
    with refused("callbacks contains"):
        RangeQuerySetWrapper(Entry.objects.all(), callbacks=callbacks)


def test_result_value_getter_must_be_callable() -> None:
    with refused("result_value_getter="):
        RangeQuerySetWrapper(Entry.objects.all(), result_value_getter="pk")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "argument", ["override_unique_safety_check", "use_compound_keyset_pagination"]
)
def test_flags_must_be_bools(argument: str) -> None:
    with refused(f"{argument}="):
        options: dict[str, Any] = {argument: "yes"}
        RangeQuerySetWrapper(Entry.objects.all(), **options)


def test_after_must_be_a_token_string() -> None:
    with refused("after="):
        RangeQuerySetWrapper(Entry.objects.all(), after=5)  # type: ignore[arg-type]


def test_check_index_must_be_an_option() -> None:
    with refused("check_index="):
        RangeQuerySetWrapper(Entry.objects.all(), check_index="warn")  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_generator_of_callbacks_is_called_for_every_batch() -> None:
    EntryFactory.create_batch(3)
    sizes: list[int] = []
    callbacks = (callback for callback in [lambda rows: sizes.append(len(rows))])
    list(RangeQuerySetWrapper(Entry.objects.all(), step=2, callbacks=callbacks))
    assert sizes == [2, 1]


@pytest.mark.django_db
def test_a_manager_is_iterated_as_its_all() -> None:
    EntryFactory.create_batch(3)
    rows = list(RangeQuerySetWrapper(Entry.objects, step=2))
    assert [row.pk for row in rows] == sorted(
        Entry.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_a_raw_queryset_is_refused() -> None:
    table = connection.ops.quote_name(Entry._meta.db_table)
    with refused("RawQuerySet"):
        RangeQuerySetWrapper(Entry.objects.raw(f"SELECT * FROM {table}"))  # type: ignore[arg-type]


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [lambda: list(Entry.objects.all()), lambda: None])
def test_rows_already_fetched_are_refused(rows: Any) -> None:
    with refused("not a QuerySet"):
        RangeQuerySetWrapper(rows())


@pytest.mark.django_db
def test_a_related_manager_is_iterated_as_its_all() -> None:
    owner, other = OwnerFactory.create_batch(2)
    EntryFactory.create_batch(3, owner=owner)
    EntryFactory.create_batch(2, owner=other)
    rows = list(RangeQuerySetWrapper(owner.entry_set, step=2))
    assert [row.pk for row in rows] == sorted(
        Entry.objects.filter(owner=owner).values_list("pk", flat=True)
    )
