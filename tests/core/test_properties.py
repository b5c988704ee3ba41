"""Property tests: the wrapper against the same rows sorted in Python.

Keys are small integers (many duplicates), NULLs, foreign keys and words of
lowercase ASCII letters, whose order is the same under every collation the
test databases use. NULLs sort as the database sorts them: largest on
PostgreSQL, smallest on SQLite and MariaDB.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db import connection
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rangeqs import RangeQuerySetWrapper
from tests.testapp.models import Entry, Owner

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SMALL = st.integers(min_value=0, max_value=3)
NULLABLE = st.none() | SMALL
WORDS = st.sampled_from(["a", "ab", "b", "ba", "bb", "c"])
KEY_NAMES = ["a", "b", "c", "word", "owner_id"]


@st.composite
def entry_values(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "a": draw(NULLABLE),
        "b": draw(SMALL),
        "c": draw(NULLABLE),
        "word": draw(WORDS),
        "owner_index": draw(st.none() | st.integers(min_value=0, max_value=1)),
    }


@st.composite
def orderings(
    draw: st.DrawFn, key_names: Sequence[str] = KEY_NAMES
) -> tuple[tuple[str, ...], bool]:
    """(order_by, whether the pk tie-breaker is left to the wrapper)."""
    names = draw(
        st.lists(st.sampled_from(key_names), min_size=1, max_size=3, unique=True)
    )
    keys = [f"-{name}" if draw(st.booleans()) else name for name in names]
    implicit_pk = draw(st.booleans())
    if not implicit_pk:
        keys.append("-id" if draw(st.booleans()) else "id")
    return tuple(keys), implicit_pk


STEPS = st.integers(min_value=1, max_value=4).flatmap(
    lambda step: st.sampled_from([step, -step])
)


def expected_order(entries: Sequence[Entry], order_by: Sequence[str]) -> list[int]:
    """Pks of ``entries`` in the order ``order_by`` gives on this database."""
    nulls_largest = connection.features.nulls_order_largest

    def compare(left: Entry, right: Entry) -> int:
        for key in order_by:
            name = key.removeprefix("-")
            lhs, rhs = getattr(left, name), getattr(right, name)
            if lhs == rhs:
                continue
            if lhs is None or rhs is None:
                result = (1 if lhs is None else -1) * (1 if nulls_largest else -1)
            else:
                result = 1 if lhs > rhs else -1
            return -result if key.startswith("-") else result
        return 0

    return [entry.pk for entry in sorted(entries, key=functools.cmp_to_key(compare))]


def walk_with_changes(
    wrapper: RangeQuerySetWrapper[Entry],
    changes: Sequence[tuple[list[dict[str, Any]], list[int]]],
    make: Callable[[dict[str, Any]], Entry],
    entries: dict[int, Entry],
    *,
    after_walk: set[int] | None = None,
) -> tuple[list[int], set[int]]:
    """Walk ``wrapper`` batch by batch, and after each batch insert and delete
    rows as the next item of ``changes`` says (deletes pick among the rows
    still alive by index). ``entries`` gains the inserted rows, and
    ``after_walk`` those inserted after the last batch, when the walk had
    read its last page (a short one ends it).

    Returns the pks yielded, in order, and the pks deleted.
    """
    deleted: set[int] = set()
    yielded: list[int] = []
    pending = list(changes)
    inserted_last: set[int] = set()
    for batch in wrapper.batches():
        inserted_last = set()
        yielded.extend(entry.pk for entry in batch)
        if not pending:
            continue
        inserts, deletes = pending.pop(0)
        for values in inserts:
            entry = make(values)
            entries[entry.pk] = entry
            inserted_last.add(entry.pk)
        alive = sorted(set(entries) - deleted)
        for index in deletes:
            if alive:
                victim = alive[index % len(alive)]
                Entry.objects.filter(pk=victim).delete()
                deleted.add(victim)
    if after_walk is not None:
        after_walk |= inserted_last
    return yielded, deleted


class WrapperProperties(TestCase):
    owners: list[Owner]

    def make(self, values: dict[str, Any]) -> Entry:
        fields = dict(values)
        owner_index = fields.pop("owner_index")
        owner = None if owner_index is None else self.owners[owner_index]
        return Entry.objects.create(owner=owner, **fields)

    def setup_owners(self) -> None:
        self.owners = [Owner.objects.create(name=name) for name in ("x", "y")]

    @given(
        rows=st.lists(entry_values(), max_size=12),
        ordering=orderings(),
        step=STEPS,
        stop=st.integers(min_value=0, max_value=12),
    )
    def test_yields_every_row_once_in_database_order_and_resumes_anywhere(
        self,
        rows: list[dict[str, Any]],
        ordering: tuple[tuple[str, ...], bool],
        step: int,
        stop: int,
    ) -> None:
        self.setup_owners()
        entries = [self.make(values) for values in rows]
        order_by, implicit_pk = ordering
        wrapper = RangeQuerySetWrapper(
            Entry.objects.all(),
            step=step,
            order_by=order_by,
            override_unique_safety_check=implicit_pk,
        )
        yielded = [entry.pk for entry in wrapper]
        assert yielded == expected_order(entries, wrapper.order_by)

        partial = RangeQuerySetWrapper(
            Entry.objects.all(),
            step=step,
            order_by=order_by,
            override_unique_safety_check=implicit_pk,
        )
        iterator = iter(partial)
        head = [next(iterator).pk for _ in range(min(stop, len(entries)))]
        # Another page size resumes at the same place.
        resumed = RangeQuerySetWrapper(
            Entry.objects.all(),
            step=step + (1 if step > 0 else -1),
            order_by=order_by,
            override_unique_safety_check=implicit_pk,
            after=partial.cursor,
        )
        assert head + [entry.pk for entry in resumed] == yielded

    @given(
        rows=st.lists(entry_values(), max_size=10),
        ordering=orderings(),
        step=STEPS,
        changes=st.lists(
            st.tuples(
                st.lists(entry_values(), max_size=2),
                st.lists(st.integers(min_value=0, max_value=30), max_size=2),
            ),
            max_size=8,
        ),
    )
    def test_rows_present_throughout_are_yielded_once_despite_inserts_and_deletes(
        self,
        rows: list[dict[str, Any]],
        ordering: tuple[tuple[str, ...], bool],
        step: int,
        changes: list[tuple[list[dict[str, Any]], list[int]]],
    ) -> None:
        self.setup_owners()
        entries = {entry.pk: entry for entry in (self.make(v) for v in rows)}
        order_by, implicit_pk = ordering
        wrapper = RangeQuerySetWrapper(
            Entry.objects.all(),
            step=step,
            order_by=order_by,
            override_unique_safety_check=implicit_pk,
        )
        yielded, deleted = walk_with_changes(wrapper, changes, self.make, entries)

        assert len(yielded) == len(set(yielded)), "a row was yielded twice"
        initial = set(list(entries)[: len(rows)])
        assert initial - deleted <= set(yielded), "a row present throughout was missed"
        # What was yielded came in strictly increasing key order.
        in_order = expected_order([entries[pk] for pk in yielded], wrapper.order_by)
        assert in_order == yielded


SHAPES = {
    "models": lambda qs: qs,
    "values": lambda qs: qs.values("word", "a"),
    "values_list": lambda qs: qs.values_list("a", "word"),
    "flat": lambda qs: qs.values_list("word", flat=True),
    "named": lambda qs: qs.values_list("word", "b", named=True),
}
# Mixed case, accents and punctuation: collations disagree on these, so the
# database's own ORDER BY is the oracle. ``folded`` holds the same words
# under a linguistic, case-insensitive collation.
ANY_WORD = st.text(alphabet="aAbBéÉ_- z", max_size=3)


class DatabaseOrderProperties(TestCase):
    @given(
        rows=st.lists(st.tuples(ANY_WORD, NULLABLE), max_size=12),
        ordering=orderings(["word", "folded", "a", "b"]),
        step=STEPS,
        shape=st.sampled_from(sorted(SHAPES)),
    )
    def test_rows_come_in_the_order_and_shape_the_database_gives(
        self,
        rows: list[tuple[str, int | None]],
        ordering: tuple[tuple[str, ...], bool],
        step: int,
        shape: str,
    ) -> None:
        for word, a in rows:
            Entry.objects.create(word=word, folded=word, a=a, b=len(word))
        order_by, implicit_pk = ordering
        queryset = SHAPES[shape](Entry.objects.all())
        wrapper = RangeQuerySetWrapper(
            queryset,
            step=step,
            order_by=order_by,
            override_unique_safety_check=implicit_pk,
        )
        assert list(wrapper) == list(queryset.order_by(*wrapper.order_by))
