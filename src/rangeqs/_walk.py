"""One walk over a wrapper's phases: its pages in key order, and positions.

A walk visits the NULL phases of the key order (``rangeqs._keyset``) that
the queryset's filters and the starting point leave, each a :class:`Leg`
with the plan chosen for it, and returns one :class:`Page` after another
(:meth:`Walk.next_page`). Sync and async iteration, rows and batches, all
take their pages from it; a :class:`Position` says where the caller stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rangeqs._rows import check_advanced

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from django.db.models import QuerySet

    from rangeqs._keyset import Phase
    from rangeqs._plans import PageStrategy, PlanChoice
    from rangeqs._rows import RowReader

__all__ = ["Leg", "Page", "Position", "RowInHand", "Walk"]


class Position:
    """The keys of the last row the caller received (None: before the first),
    and the cursor token that carries them. A value: made once, never changed.
    """

    __slots__ = ("_token", "keys")

    def __init__(self, keys: tuple[Any, ...] | None, *, token: str | None = None):
        self.keys = keys
        self._token = token

    def position(self) -> Position:
        return self

    def token(self, encode: Callable[[tuple[Any, ...]], str]) -> str | None:
        """The signed token of these keys (made once)."""
        if self._token is None and self.keys is not None:
            self._token = encode(self.keys)
        return self._token


class RowInHand:
    """Where the caller stands while a page is handed out: the row at
    ``index``. Handing out a row costs one store; its :class:`Position` is
    made only when asked, from what the database returned, whatever the
    caller did to the row."""

    __slots__ = (
        "_last_position",
        "_last_position_index",
        "_previous",
        "_read",
        "index",
    )

    def __init__(
        self, read: Callable[[int], tuple[Any, ...]], *, previous: Position
    ) -> None:
        self._read = read
        self._previous = previous
        # The position last made, and for which row: cursor read twice at
        # one row signs one token.
        self._last_position = previous
        self._last_position_index = -1
        #: The row handed out last; -1 before the first.
        self.index = -1

    def position(self) -> Position:
        index = self.index
        if index != self._last_position_index:
            self._last_position = Position(self._read(index))
            self._last_position_index = index
        return self._last_position


@dataclass
class Page:
    """The rows of one query as the caller gets them, and their positions."""

    count: int
    # Rows may be made as they are reached (rangeqs._plans.prepared.FetchedRows).
    rows: Iterable[Any]
    position_of: Callable[[int], tuple[Any, ...]]

    def rows_as_list(self) -> list[Any]:
        """The rows as a list, made once."""
        if not isinstance(self.rows, list):
            self.rows = list(self.rows)
        return self.rows

    def last_position(self) -> Position:
        return Position(self.position_of(self.count - 1))


@dataclass(frozen=True)
class Leg:
    """One phase the walk visits, and how its pages are fetched."""

    phase: Phase
    #: The rows of the phase: the caller's filters, the phase's NULL
    #: pattern, the ``min_id`` bound; the keys selected where needed.
    queryset: QuerySet[Any, Any]
    choice: PlanChoice
    #: Where the walk enters the phase (its own keys), None for its start.
    after: tuple[Any, ...] | None


class Walk:
    """The pages of every leg in turn, ``step`` rows each, ``limit`` in all."""

    def __init__(
        self,
        legs: Sequence[Leg],
        *,
        step: int,
        limit: int | None,
        reader: RowReader,
        fetch: Callable[[PageStrategy, tuple[Any, ...] | None, int], Sequence[Any]],
    ) -> None:
        """``fetch``: at most ``size`` rows after a position with a plan (the
        wrapper's, which retries and counts the statements)."""
        # Plans keep compiled statements: one set per walk.
        self._plans = [
            (leg, leg.choice.plan(leg.queryset, leg.phase.keys)) for leg in legs
        ]
        self._step = step
        self._remaining = limit
        self._reader = reader
        self._fetch = fetch
        self._after = legs[0].after if legs else None

    def next_page(self, *, load_rows: bool = False) -> Page | None:
        """The next page with rows, None at the end; ``load_rows``: its rows are
        made now (async iteration makes them in the worker thread)."""
        while self._plans and self._remaining != 0:
            leg, plan = self._plans[0]
            size = self._step
            if self._remaining is not None:
                size = min(size, self._remaining)
            after = self._after
            rows = self._fetch(plan, after, size)
            page = Page(len(rows), *self._reader.split_all(rows))
            if after is not None and page.count:
                project = leg.phase.project
                check_advanced(
                    after,
                    project(page.position_of(0)),
                    project(page.position_of(page.count - 1)),
                )
            if self._remaining is not None:
                self._remaining -= page.count
            if len(rows) < size:
                # A short page ends the phase: no query to find out it is empty.
                self._plans.pop(0)
                self._after = self._plans[0][0].after if self._plans else None
            else:
                self._after = leg.phase.project(page.position_of(page.count - 1))
            if page.count:
                if load_rows:
                    page.rows_as_list()
                return page
        return None
