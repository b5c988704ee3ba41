"""The core's property tests (tests/core/test_properties.py), under every plan.

The same rows, orders, steps and row shapes as the core's, with an IN list
added on one column: the partition plan orders by that column first, the
merge plan by keys that do not start with it, and the plain plan by either.
Cursors made under one plan resume under another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rangeqs import RangeQuerySetWrapper
from tests.core.test_properties import (
    SHAPES,
    STEPS,
    entry_values,
    expected_order,
    orderings,
    walk_with_changes,
)
from tests.testapp.models import Entry, Owner

if TYPE_CHECKING:
    from rangeqs._plans import PlanName

# Columns an IN list may filter, with the values it may list.
LISTABLE = {
    "a": st.integers(min_value=0, max_value=3),
    "b": st.integers(min_value=0, max_value=3),
    "word": st.sampled_from(["a", "ab", "b", "ba", "bb", "c"]),
}


@st.composite
def planned(draw: st.DrawFn) -> tuple[PlanName, str, list[Any], tuple[str, ...], bool]:
    """(plan, IN column, listed values, order_by, implicit pk) that fit together."""
    column = draw(st.sampled_from(sorted(LISTABLE)))
    listed = draw(st.lists(LISTABLE[column], min_size=1, max_size=4, unique=True))
    order_by, implicit_pk = draw(orderings())
    plan: PlanName = draw(st.sampled_from(["plain", "merge", "partition"]))
    rest = [key for key in order_by if key.removeprefix("-") != column]
    if plan == "partition":
        lead = f"-{column}" if draw(st.booleans()) else column
        order_by = (lead, *rest)
    elif plan == "merge":
        if not rest:
            rest = ["id"]
            implicit_pk = False
        if rest[0].removeprefix("-") == column:
            rest = rest[1:]
        order_by = tuple(rest)
    return plan, column, listed, order_by, implicit_pk


class EveryPlanProperties(TestCase):
    owners: list[Owner]

    def make(self, values: dict[str, Any]) -> Entry:
        fields = dict(values)
        owner_index = fields.pop("owner_index")
        owner = None if owner_index is None else self.owners[owner_index]
        return Entry.objects.create(owner=owner, **fields)

    def setUp(self) -> None:
        super().setUp()
        self.owners = [Owner.objects.create(name=name) for name in ("x", "y")]

    @given(
        rows=st.lists(entry_values(), max_size=12),
        setup=planned(),
        step=STEPS,
        stop=st.integers(min_value=0, max_value=12),
        resume_plan=st.sampled_from(["plain", "auto"]),
    )
    def test_every_plan_yields_every_row_once_in_order_and_resumes_anywhere(
        self,
        rows: list[dict[str, Any]],
        setup: tuple[PlanName, str, list[Any], tuple[str, ...], bool],
        step: int,
        stop: int,
        resume_plan: PlanName,
    ) -> None:
        plan, column, listed, order_by, implicit_pk = setup
        entries = [self.make(values) for values in rows]
        queryset = Entry.objects.filter(**{f"{column}__in": listed})
        matching = [entry for entry in entries if getattr(entry, column) in listed]

        def wrapper(**options: Any) -> RangeQuerySetWrapper[Entry]:
            options = {"plan": plan, "step": step} | options
            return RangeQuerySetWrapper(
                queryset,
                order_by=order_by,
                override_unique_safety_check=implicit_pk,
                **options,
            )

        whole = wrapper()
        yielded = [entry.pk for entry in whole]
        assert whole.plan == plan
        assert yielded == expected_order(matching, whole.order_by)

        partial = iter(first := wrapper())
        head = [next(partial).pk for _ in range(min(stop, len(matching)))]
        resumed = wrapper(plan=resume_plan, after=first.cursor, step=step * 2)
        assert head + [entry.pk for entry in resumed] == yielded

    @given(
        rows=st.lists(entry_values(), max_size=10),
        setup=planned(),
        step=STEPS,
        changes=st.lists(
            st.tuples(
                st.lists(entry_values(), max_size=2),
                st.lists(st.integers(min_value=0, max_value=30), max_size=2),
            ),
            max_size=6,
        ),
    )
    def test_every_plan_yields_rows_present_throughout_once_despite_changes(
        self,
        rows: list[dict[str, Any]],
        setup: tuple[PlanName, str, list[Any], tuple[str, ...], bool],
        step: int,
        changes: list[tuple[list[dict[str, Any]], list[int]]],
    ) -> None:
        plan, column, listed, order_by, implicit_pk = setup
        entries = {entry.pk: entry for entry in (self.make(v) for v in rows)}
        initial = set(entries)
        wrapper = RangeQuerySetWrapper(
            Entry.objects.filter(**{f"{column}__in": listed}),
            step=step,
            order_by=order_by,
            override_unique_safety_check=implicit_pk,
            plan=plan,
        )
        after_walk: set[int] = set()
        yielded, deleted = walk_with_changes(
            wrapper, changes, self.make, entries, after_walk=after_walk
        )

        listed_pks = {pk for pk, e in entries.items() if getattr(e, column) in listed}
        assert len(yielded) == len(set(yielded)), "a row was yielded twice"
        assert (initial & listed_pks) - deleted <= set(yielded), "a row was missed"
        assert set(yielded) <= listed_pks, "a row outside the IN list was yielded"
        in_order = expected_order([entries[pk] for pk in yielded], wrapper.order_by)
        assert in_order == yielded
        if wrapper.order_by == ("id",):
            # Ids grow: a row inserted between pages comes after the position,
            # and a page must find it, whatever the pages before it read (not
            # one inserted once the last page was read).
            inserted = (set(entries) - initial - after_walk) & listed_pks
            assert inserted - deleted <= set(yielded), "an inserted row was missed"

    @given(
        rows=st.lists(entry_values(), max_size=10),
        setup=planned(),
        step=STEPS,
        shape=st.sampled_from(sorted(SHAPES)),
    )
    def test_every_plan_returns_rows_in_the_shape_asked_for(
        self,
        rows: list[dict[str, Any]],
        setup: tuple[PlanName, str, list[Any], tuple[str, ...], bool],
        step: int,
        shape: str,
    ) -> None:
        plan, column, listed, order_by, implicit_pk = setup
        for values in rows:
            self.make(values)
        queryset = SHAPES[shape](Entry.objects.filter(**{f"{column}__in": listed}))
        wrapper = RangeQuerySetWrapper(
            queryset,
            step=step,
            order_by=order_by,
            override_unique_safety_check=implicit_pk,
            plan=plan,
        )

        assert list(wrapper) == list(queryset.order_by(*wrapper.order_by))
