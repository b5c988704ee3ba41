"""The partition plan: keys that start with the IN column, one value after another.

``order_by=("group_id", "id")`` over ``group_id IN (...)`` is served by an
index ``(group_id, id)``: the rows come value by value, each value's rows in
key order. A page must not make the database revisit the values already
finished, nor the rows of the current value before the position.

- PostgreSQL: one query, ``col IN (...) AND col >= g AND (col, id) > (g, z)``.
  The B-tree scan skips the listed values below ``g`` without reading them
  (measured: about 6 buffers a page on PostgreSQL 15 and 18, like a walk of
  one value), and a page runs on into the next values by itself. Inside a
  value that has filled several whole pages, a page is a walk of that value
  alone (planning the list costs more than the page), completed when the
  value runs out by ``col IN (...) AND col > g``.
- SQLite and MariaDB do not bound an IN-list scan by a row comparison: they
  read every row of the current value up to the position. There, and on
  PostgreSQL for lists longer than ``LONG_LIST``, a page is a walk of the
  current value, ``col = g AND id > z ORDER BY id``, and, when that
  value runs out before the page is full, a second query over the values
  after ``g`` (``col IN (<values after g>) ORDER BY col, id``), so that short
  groups share a query instead of costing one each.

"After ``g``" is decided by the database, in the column's collation, as is
the order of the values: never by Python. Python compares values only to
count the pages a value has filled, which chooses a page's form, and, for
integer columns on PostgreSQL, to leave the values before the position out
of the list, which the page's bound excludes anyway: never its rows.
"""

from __future__ import annotations

import bisect
import operator
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import Q

from rangeqs._inlist import (
    LONG_LIST,
    MARIADB_LITERAL_LIST,
    count_values_through,
    in_list_condition,
    in_values,
    replace_condition,
    rewrite_in_lists,
    sorted_values,
    values_after,
)
from rangeqs._listed import equal_as_range, is_integer
from rangeqs._plans.base import PageStrategy
from rangeqs._plans.prepared import PreparedPages, Slot, joined, slotted_after
from rangeqs._where import without_condition

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Expression, QuerySet
    from django.db.models.lookups import In

    from rangeqs._keys import Key

__all__ = ["PartitionPlan"]

# Planners that bound one index scan by an IN list and a row comparison together.
_ONE_QUERY_VENDORS = frozenset({"postgresql"})

# Values per window of a long list on MariaDB: under eq_range_index_dive_limit
# (200), so that it probes the index for each value and sees the empty ones;
# past it, it guesses every value holds an average group and may prefer a
# full scan with a sort.
_WINDOW = 100

# Equal to no key value.
_NO_VALUE = object()

# PostgreSQL: the whole pages of one value after which its pages walk it
# alone, at first. A walk saves about 0.1 ms of planning a page and costs
# one statement more at the value's end (0.3 to 0.4 ms): it pays from the
# fourth page it walks. Values of a few pages (the demo's 400 rows at step
# 100) are never walked.
_WHOLE_PAGES_BEFORE_WALKING = 4
_WALKED_PAGES_THAT_PAY = 4


class _ShrinkingList:
    """Page statements whose IN list holds the values from the walk's
    position on, cut once fewer than half of the values it holds are left.

    PostgreSQL estimates every element of an ``= ANY`` array while it plans
    (about 0.3 ms for 100 values, 0.2 ms for 50 on PostgreSQL 15), and the
    plan of a partition page costs more than its run. Values before the
    position match no row after it, so leaving them out changes no row.
    Halving keeps the statements compiled per walk to the logarithm of the
    list's length.
    """

    def __init__(
        self,
        pages_listing: Callable[[Sequence[int] | None], PreparedPages],
        integers: Sequence[int] | None,
        *,
        descending: bool,
    ) -> None:
        self._pages_listing = pages_listing
        self._integers = integers
        self._descending = descending
        self._pages = pages_listing(None)
        self._length = len(integers or ())

    def pages(self, value: Any) -> PreparedPages:
        """The statements for a position whose first key is ``value``."""
        integers = self._integers
        if integers is None or value is None:
            return self._pages
        if self._descending:
            start = bisect.bisect_left(integers, -value, key=operator.neg)
        else:
            start = bisect.bisect_left(integers, value)
        left = len(integers) - start
        if left and left * 2 <= self._length:
            self._pages = self._pages_listing(integers[start:])
            self._length = left
        return self._pages


class PartitionPlan(PageStrategy):
    """Pages in the order of the IN column's values, then the other keys."""

    name = "partition"
    walks_list = "leading"

    def __init__(self, queryset: QuerySet[Any, Any], keys: Sequence[Key]) -> None:
        super().__init__(queryset, keys)
        # Every page sends the list again: as one parameter, converted once,
        # it costs Django a fraction of compiling one placeholder per value.
        self.queryset = rewrite_in_lists(self.queryset, longer_than=0)
        condition = in_list_condition(self.queryset, column=self.keys[0].name)
        assert condition is not None
        assert condition.lookup is not None
        assert condition.field is not None
        self._condition = condition
        # PostgreSQL parses and sorts the whole list for every statement that
        # carries it (about 170 ms for 100,000 values): past LONG_LIST, a page
        # inside one value is better served by a walk that leaves it out.
        self._list_length = len(condition.values or ())
        self._one_query = self._list_length <= LONG_LIST
        self._lookup: In = condition.lookup  # type: ignore[assignment]
        self._without_list = without_condition(self.queryset, condition)
        # MariaDB, long lists: the listed values in the database's order.
        self._sorted: list[Any] | None = None
        self._pages = self._pages_listing(None)
        # PostgreSQL: the statements of a page and of the values after a
        # walked one, their integer lists cut as the walk goes on.
        integers = self._listed_integers()
        descending = self.keys[0].descending
        self._reachable = _ShrinkingList(
            self._pages_listing, integers, descending=descending
        )
        self._after_value = _ShrinkingList(
            self._pages_listing, integers, descending=descending
        )
        # PostgreSQL: the first key's value the last page started in, and
        # how many whole pages in a row have come from it.
        self._previous_lead: Any = _NO_VALUE
        self._whole_pages_in_value = 0
        self._walk_after_pages = _WHOLE_PAGES_BEFORE_WALKING
        # SQLite and MariaDB, long lists, and large values on PostgreSQL:
        # walks of one value at a time.
        self._walks = PreparedPages(
            self._without_list,
            self.keys,
            guard=self.guard,
            compiled=self.compiled_pages,
        )

    def fetch_page(self, after: tuple[Any, ...] | None, size: int) -> Sequence[Any]:
        connection = connections[self.queryset.db]
        if after is None:
            if self._windowed(connection):
                return self._following_windows(None, size, connection)
            return self._pages.rows(None, size)
        lead = self.keys[0]
        if self._one_query and connection.vendor in _ONE_QUERY_VENDORS:
            return self._one_query_page(after, size, connection)
        rows = self._walk_value(after, size, connection)
        if len(rows) == size:
            return rows
        if self._windowed(connection):
            following = self._following_windows(after[0], size - len(rows), connection)
            return joined(rows, following)
        trimmed = values_after(self._lookup, after[0], descending=lead.descending)
        rest = replace_condition(self.queryset, self._condition, trimmed)
        return joined(rows, self.run(self.ordered(rest)[: size - len(rows)]))

    def _one_query_page(
        self, after: tuple[Any, ...], size: int, connection: BaseDatabaseWrapper
    ) -> Sequence[Any]:
        """PostgreSQL: the page in one statement, or a walk of a large value.

        Planning a statement that carries the list costs more than running
        it (0.13 ms against 0.07 ms for a page of 100 of a 100-value list on
        PostgreSQL 15; a walk of one value plans in 0.03 ms), and the pages
        of large values are most of a walk. Once four whole pages have come
        from one value, its next pages walk that value alone; its last page is
        completed from the values after it, one statement more per large
        value. A value that ends before its walk has paid for that statement
        says how large the values are: later values walk only once they have
        filled more pages than it.
        """
        lead = self.keys[0]
        if after[0] == self._previous_lead:
            self._whole_pages_in_value += 1
        else:
            self._whole_pages_in_value = 0
        self._previous_lead = after[0]
        if self._whole_pages_in_value < self._walk_after_pages:
            # Repeats what the row comparison implies, as a plain range on the
            # IN column: it lets the scan skip the finished values.
            lookup = "lte" if lead.descending else "gte"
            return self._reachable.pages(after[0]).rows(
                after,
                size,
                bound=lambda slots: Q(**{f"{lead.name}__{lookup}": slots[0]}),
            )
        rows = self._walk_value(after, size, connection)
        if len(rows) == size:
            return rows
        walked = self._whole_pages_in_value - self._walk_after_pages + 1
        if walked < _WALKED_PAGES_THAT_PAY:
            self._walk_after_pages = self._whole_pages_in_value + 1
        lookup = "lt" if lead.descending else "gt"
        following = self._after_value.pages(after[0]).rows(
            after,
            size - len(rows),
            make_conditions=lambda slots: [Q(**{f"{lead.name}__{lookup}": slots[0]})],
        )
        return joined(rows, following)

    def _listed_integers(self) -> list[int] | None:
        """The distinct integers of a list that one query pages, in key order.

        None for other columns: only integers does Python order as the
        database does.
        """
        field = self._condition.field
        assert field is not None
        if not self._one_query or not is_integer(field):
            return None
        listed = {int(v) for v in self._condition.values or () if v is not None}
        return sorted(listed, reverse=self.keys[0].descending)

    def _pages_listing(self, values: Sequence[int] | None) -> PreparedPages:
        """The pages of the queryset, its list replaced by ``values`` if given."""
        queryset = self.queryset
        if values is not None:
            listed = in_values(self._lookup.lhs, values)
            queryset = replace_condition(queryset, self._condition, listed)
        return PreparedPages(
            queryset, self.keys, guard=self.guard, compiled=self.compiled_pages
        )

    def _walk_value(
        self, after: tuple[Any, ...], size: int, connection: BaseDatabaseWrapper
    ) -> Sequence[Any]:
        """At most ``size`` rows of the position's own value after it."""
        return self._walks.rows(
            after,
            size,
            make_conditions=lambda slots: self._within_value(slots, connection),
        )

    def _within_value(
        self, slots: Sequence[Slot | None], connection: BaseDatabaseWrapper
    ) -> list[Q | Expression]:
        """The rows of the position's own value after it.

        The IN list adds nothing once the value is pinned, and SQLite would
        probe its index with the list instead of with `col = g AND id > z`.
        """
        lead, rest = self.keys[0], self.keys[1:]
        if rest and not rest[0].nullable:
            # A plain `id > z` next to `col = g`: every database bounds the
            # index range with both.
            after = slotted_after(rest, slots[1:], connection)
        else:
            after = slotted_after(self.keys, slots, connection)
        field = self._condition.field
        if (
            connection.vendor == "postgresql"
            and field is not None
            and equal_as_range(field)
        ):
            # `col = g` makes `col` a constant, and `ORDER BY col, id` then an
            # order the primary key gives too: a planner that expects g's
            # rows sooner than they come walks it, filtering out the rows of
            # every other value (sorts off leave that way open). The same
            # rows as a range leave only the serving index's order unsorted.
            return [
                Q(**{f"{lead.name}__gte": slots[0], f"{lead.name}__lte": slots[0]}),
                after,
            ]
        return [Q(**{lead.name: slots[0]}), after]

    def _windowed(self, connection: BaseDatabaseWrapper) -> bool:
        # MariaDB joins a long JSON_TABLE list first and sorts every row it
        # matches; literal windows of the list are read in index order.
        return (
            connection.vendor == "mysql" and self._list_length >= MARIADB_LITERAL_LIST
        )

    def _following_windows(
        self, value: Any, size: int, connection: BaseDatabaseWrapper
    ) -> Sequence[Any]:
        """Up to ``size`` rows of the values after ``value``, window by window."""
        descending = self.keys[0].descending
        if self._sorted is None:
            self._sorted = sorted_values(
                self._lookup, connection, descending=descending
            )
            if self._sorted is not None:
                self.queries += 1
        start = None if self._sorted is None else self._count_through(value, connection)
        if self._sorted is None or start is None:
            trimmed = values_after(self._lookup, value, descending=descending)
            following = replace_condition(self.queryset, self._condition, trimmed)
            return self.run(self.ordered(following)[:size])
        rows: Sequence[Any] = []
        while len(rows) < size and start < len(self._sorted):
            window = self._sorted[start : start + _WINDOW]
            listed = in_values(self._lookup.lhs, window)
            page = replace_condition(self.queryset, self._condition, listed)
            part = self.run(self.ordered(page)[: size - len(rows)])
            rows = joined(rows, part)
            start += _WINDOW
        return rows

    def _count_through(self, value: Any, connection: BaseDatabaseWrapper) -> int | None:
        """How many of the sorted values come up to ``value``, inclusive."""
        assert self._sorted is not None
        if value is None:
            return 0
        descending = self.keys[0].descending
        field = self._condition.field
        assert field is not None
        if is_integer(field):
            # Integers compare in Python exactly as in the database.
            if descending:
                return bisect.bisect_right(self._sorted, -value, key=operator.neg)
            return bisect.bisect_right(self._sorted, value)
        return count_values_through(
            self._lookup, connection, value, descending=descending
        )
