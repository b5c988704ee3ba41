"""Every plan yields each row once, in key order, under inserts and deletes."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rangeqs import InvalidQuerySetError
from rangeqs.wrapper import RangeQuerySetWrapper
from tests.compiled_pages import merge_page_statements
from tests.core.factories import EntryFactory
from tests.plans.helpers import make_rows, make_tags
from tests.testapp.models import Entry, PlanRow, PlanTag, ShownEntry

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.models import QuerySet

    from rangeqs._plans import PlanName

pytestmark = pytest.mark.django_db

PLANS_FOR_ID_ORDER = ("plain", "merge")
PLANS_FOR_GROUP_ORDER = ("plain", "partition")

groups = st.dictionaries(st.integers(1, 8), st.integers(1, 9), min_size=1, max_size=6)
edits = st.lists(
    st.tuples(st.sampled_from(["insert", "delete"]), st.integers(1, 8)), max_size=4
)


def _walk(
    wrapper: RangeQuerySetWrapper[Any], edit_list: list[tuple[str, int]]
) -> tuple[list[Any], set[tuple[int, int]]]:
    """Iterate page by page, inserting or deleting a row of a group after each
    page; return the rows seen and the (id, group) of the rows inserted."""
    seen: list[Any] = []
    inserted: set[tuple[int, int]] = set()
    pending = list(edit_list)
    for batch in wrapper.batches():
        seen.extend(batch)
        if pending:
            action, group = pending.pop(0)
            if action == "insert":
                row = PlanRow.objects.create(project_id=1, group_id=group)
                inserted.add((row.pk, group))
            else:
                victim = PlanRow.objects.filter(group_id=group).order_by("?").first()
                if victim is not None:
                    victim.delete()
    return seen, inserted


def _check(
    seen: list[tuple[int, int]],
    before: set[tuple[int, int]],
    after: set[tuple[int, int]],
    inserted: set[tuple[int, int]],
    *,
    descending: bool,
) -> None:
    assert len(seen) == len(set(seen)), "a row was yielded twice"
    assert seen == sorted(seen, reverse=descending), "rows out of key order"
    assert before & after <= set(seen), "a row present throughout was skipped"
    assert set(seen) <= before | after | inserted, (
        "a row that never existed was yielded"
    )


@pytest.mark.parametrize("plan", PLANS_FOR_ID_ORDER)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=groups,
    listed=st.sets(st.integers(0, 9), min_size=1),
    step=st.integers(1, 7),
    descending=st.booleans(),
    edit_list=edits,
)
def test_id_order_yields_each_row_once_in_order(
    plan: PlanName,
    *,
    rows: dict[int, int],
    listed: set[int],
    step: int,
    descending: bool,
    edit_list: list[tuple[str, int]],
) -> None:
    PlanRow.objects.all().delete()
    make_rows(rows)
    queryset = PlanRow.objects.filter(group_id__in=sorted(listed)).values_list(
        "id", "group_id"
    )
    before = {(pk, group) for pk, group in queryset}
    wrapper = RangeQuerySetWrapper(
        queryset, order_by="id", step=-step if descending else step, plan=plan
    )

    seen, inserted = _walk(wrapper, edit_list)

    after = {(pk, group) for pk, group in queryset.all()}
    listed_inserts = {row for row in inserted if row[1] in listed}
    _check(seen, before, after, listed_inserts, descending=descending)


@pytest.mark.parametrize("plan", PLANS_FOR_GROUP_ORDER)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=groups,
    listed=st.sets(st.integers(0, 9), min_size=1),
    step=st.integers(1, 7),
    descending=st.booleans(),
    edit_list=edits,
)
def test_group_order_yields_each_row_once_in_order(
    plan: PlanName,
    *,
    rows: dict[int, int],
    listed: set[int],
    step: int,
    descending: bool,
    edit_list: list[tuple[str, int]],
) -> None:
    PlanRow.objects.all().delete()
    make_rows(rows)
    queryset = PlanRow.objects.filter(group_id__in=sorted(listed)).values_list(
        "group_id", "id"
    )
    before = {(group, pk) for group, pk in queryset}
    wrapper = RangeQuerySetWrapper(
        queryset,
        order_by=("group_id", "id"),
        step=-step if descending else step,
        plan=plan,
    )

    seen, inserted = _walk(wrapper, edit_list)

    after = {(group, pk) for group, pk in queryset.all()}
    listed_inserts = {(group, pk) for pk, group in inserted if group in listed}
    _check(seen, before, after, listed_inserts, descending=descending)


def test_plain_and_partition_take_a_hundred_thousand_values() -> None:
    make_rows({3: 4, 60_000: 3, 99_999: 2, 150_000: 5})
    queryset = PlanRow.objects.filter(group_id__in=range(100_000))
    by_id = sorted(queryset.values_list("id", flat=True))
    by_group = sorted(queryset.values_list("group_id", "id"))

    plain = RangeQuerySetWrapper(queryset.values_list("id", flat=True), step=5)
    partition = RangeQuerySetWrapper(
        queryset.values_list("group_id", "id"), order_by=("group_id", "id"), step=5
    )

    assert (plain.plan, partition.plan) == ("plain", "partition")
    assert list(plain) == by_id
    assert list(partition) == by_group


@pytest.mark.parametrize("plan", ["partition", "plain"])
def test_text_values_follow_the_database_collation_in_partition_order(
    plan: PlanName,
) -> None:
    make_tags(["b", "A", "a", "C", "B", "c", "a", "d"])
    queryset = PlanTag.objects.filter(tag__in=["a", "B", "c", "A"])
    expected = list(queryset.order_by("tag", "id").values_list("tag", "id"))

    wrapper = RangeQuerySetWrapper(
        queryset.values_list("tag", "id"), order_by=("tag", "id"), step=2, plan=plan
    )

    assert list(wrapper) == expected


@pytest.mark.parametrize("plan", ["merge", "plain"])
def test_text_values_equal_in_the_collation_are_merged_once(plan: PlanName) -> None:
    make_tags(["b", "A", "a", "C", "B", "c", "a", "d"])
    queryset = PlanTag.objects.filter(tag__in=["a", "B", "c", "A"])
    expected = list(queryset.order_by("id").values_list("id", flat=True))

    wrapper = RangeQuerySetWrapper(
        queryset.values_list("id", flat=True), step=2, plan=plan
    )

    assert list(wrapper) == expected


ROW_SHAPES: dict[str, Callable[[QuerySet[PlanRow]], QuerySet[Any]]] = {
    "instances": lambda rows: rows,
    "annotated": lambda rows: rows.annotate(next_group=F("group_id") + 1),
    "only": lambda rows: rows.only("hash"),
    "values": lambda rows: rows.values("hash", "group_id"),
    "flat values_list": lambda rows: rows.values_list("hash", flat=True),
    "named values_list": lambda rows: rows.values_list("group_id", named=True),
}


def _described(row: Any) -> Any:
    if isinstance(row, PlanRow):
        return (
            row.pk,
            row.__dict__.get("group_id"),
            row.__dict__.get("hash"),
            getattr(row, "next_group", None),
            sorted(row.get_deferred_fields()),
        )
    return row


@pytest.mark.parametrize("shape", ROW_SHAPES)
def test_merge_rows_have_the_shape_the_caller_asked_for(shape: str) -> None:
    # The merge page selects the caller's columns in every branch on
    # PostgreSQL, and through ``pk IN (...)`` elsewhere: both must hand out
    # what the plain plan hands out.
    for row in make_rows({1: 4, 2: 3, 3: 5}):
        PlanRow.objects.filter(pk=row.pk).update(hash=f"h{row.pk}")
    queryset = ROW_SHAPES[shape](PlanRow.objects.filter(group_id__in=[1, 2, 3]))

    merged = RangeQuerySetWrapper(queryset, step=5, plan="merge")
    plain = RangeQuerySetWrapper(queryset, step=5, plan="plain")

    assert [_described(row) for row in merged] == [_described(row) for row in plain]
    assert merged.queries == 3 * merge_page_statements(3)


@pytest.mark.parametrize("plan", ["auto", "plain"])
def test_null_phase_led_by_the_in_column_is_walked_by_a_plan_that_fits_it(
    plan: PlanName,
) -> None:
    # Where the leading key is NULL, the rows are ordered by the pk alone,
    # the very column of the IN list: merge cannot serve that phase.
    entries = [EntryFactory.create(a=a) for a in (2, None, 1, None, 2, 1, None)]
    listed = [entry.pk for entry in entries[1:]]
    queryset = Entry.objects.filter(pk__in=listed)
    expected = list(queryset.order_by("a", "id").values_list("id", flat=True))

    wrapper = RangeQuerySetWrapper(
        queryset.values_list("id", flat=True), order_by=("a", "id"), step=2, plan=plan
    )

    assert list(wrapper) == expected


def test_merge_is_refused_for_a_null_phase_it_cannot_serve() -> None:
    # Where the leading key is NULL the rows are ordered by the pk alone, the
    # column of the IN list: merge would be replaced there, never silently.
    queryset = Entry.objects.filter(pk__in=[1, 2, 3]).values_list("id", flat=True)

    with pytest.raises(InvalidQuerySetError, match=r"^plan='merge' .* a IS NULL"):
        RangeQuerySetWrapper(queryset, order_by=("a", "id"), plan="merge")


def test_partition_positions_come_from_the_database_not_from_what_from_db_shows() -> (
    None
):
    # ShownEntry negates b when loaded: a walk that read its position from
    # the instance would look for the rows of -b.
    entries = [EntryFactory.create(b=b) for b in (3, 1, 3, 2, 1, 3, 2, 3)]
    queryset = ShownEntry.objects.filter(b__in=[1, 2, 3])
    expected = sorted(entries, key=lambda entry: (entry.b, entry.pk))

    wrapper = RangeQuerySetWrapper(
        queryset, order_by=("b", "id"), step=3, plan="partition"
    )

    # A bounded take: a misplaced position walks the same rows forever.
    rows = list(itertools.islice(wrapper, 2 * len(entries)))
    assert [row.pk for row in rows] == [entry.pk for entry in expected]
