"""RangeQuerySetWrapper: keyset iteration over a filtered, ordered queryset."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from asgiref.sync import sync_to_async
from django.db import OperationalError, connections
from django.db.models import Q

from rangeqs import _cursor
from rangeqs._keys import resolve_keys
from rangeqs._keyset import at_or_before, columns_never_null, split_phases, until_phase
from rangeqs._plans import select_plan
from rangeqs._plans.plain import PlainPlan
from rangeqs._rows import RowReader
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key
    from rangeqs._keyset import Phase
    from rangeqs._plans import Plan, PlanName

_Row = TypeVar("_Row")


class RangeQuerySetWrapper(Generic[_Row]):
    """Iterate ``queryset`` in pages of ``step`` rows, each one keyset query.

    Every row is yielded once, in the order of ``order_by``. Each page is
    ``WHERE <the queryset's filters> AND <keys> > <last keys> ORDER BY <keys>
    LIMIT step``, so its cost does not grow with the position.

    Args:
        queryset: Any queryset without an explicit ordering, offset,
            ``distinct()`` or set operation. A slice ``[:n]`` acts as ``limit``.
            ``values()`` and ``values_list()`` rows come back in the shape the
            caller asked for.
        step: Rows per query. A negative step iterates in reverse order.
        limit: Yield at most this many rows.
        min_id: Start at this value of the (single) key, inclusive.
        order_by: A field name, or a sequence of names for a compound key;
            ``-name`` is descending. ``"pk"`` is the primary key; foreign keys
            may be named by attname (``"group_id"``).
        callbacks: Called with each batch (a list of rows) before its rows
            are yielded.
        result_value_getter: Returns the key value of a row (a tuple or a dict
            by column name for compound keys), for rows the wrapper cannot
            read keys from.
        override_unique_safety_check: Allow a non-unique ``order_by`` by
            appending the primary key as a tie-breaker.
        query_timeout_retries: Retry a page query that raises
            ``django.db.OperationalError`` up to this many times.
        retry_delay_seconds: Wait between those retries.
        after: A token from :attr:`cursor`: resume strictly after that row.
        until: A token from :attr:`cursor`: stop after that row (inclusive).
            With ``after`` it bounds one range of a walk split for workers
            (:func:`rangeqs.jobs.split`).
        check_index: Ask the index advisor whether an index serves the
            ordering under the queryset's filters: ``True`` logs a warning,
            ``"error"`` raises.
        plan: How pages are fetched; ``"auto"`` picks one for the queryset.
    """

    def __init__(
        self,
        queryset: QuerySet[Any, _Row],
        *,
        step: int = 1000,
        limit: int | None = None,
        min_id: Any = None,
        order_by: str | Sequence[str] = "pk",
        callbacks: Sequence[Callable[[list[_Row]], object]] = (),
        result_value_getter: Callable[[_Row], Any] | None = None,
        override_unique_safety_check: bool = False,
        query_timeout_retries: int | None = None,
        retry_delay_seconds: float = 0.5,
        after: str | None = None,
        until: str | None = None,
        check_index: bool | Literal["error"] = False,
        plan: PlanName = "auto",
    ) -> None:
        _check_queryset(queryset)
        # Callers without a type checker pass floats and bools too.
        step_value: object = step
        if isinstance(step_value, bool) or not isinstance(step_value, int) or step == 0:
            raise InvalidQuerySetError(
                f"step={step!r} is not a page size: pass a positive int, or a "
                f"negative one to iterate in descending order."
            )
        if limit is not None and limit < 0:
            raise InvalidQuerySetError(
                f"limit={limit} is negative: pass the number of rows to yield, or "
                f"None for all of them."
            )
        if queryset.query.high_mark is not None:
            high_mark = queryset.query.high_mark
            limit = high_mark if limit is None else min(limit, high_mark)

        self.queryset = queryset
        self.limit = limit
        self.step = min(limit, abs(step)) if limit else abs(step)
        self.min_id = min_id
        self.callbacks = tuple(callbacks)
        self.result_value_getter = result_value_getter
        self.query_timeout_retries = query_timeout_retries
        self.retry_delay_seconds = retry_delay_seconds

        model = queryset.model
        keys, tie_breaker_added = resolve_keys(
            model,
            order_by,
            reverse=step < 0,
            add_tie_breaker=override_unique_safety_check,
        )
        user_keys = keys[:-1] if tie_breaker_added else keys
        if min_id is not None and len(user_keys) > 1:
            raise InvalidQuerySetError(
                "min_id bounds a single key but order_by has several: pass after= "
                "with a cursor token to start inside a compound order."
            )
        self._keys: tuple[Key, ...] = keys
        #: The keys in use, ``-`` for descending, pk tie-breaker included.
        self.order_by: tuple[str, ...] = tuple(key.ordering for key in keys)
        # Every page starts from this: the slice became ``limit``, each page
        # sets its own, and the keys replace any ordering, Meta.ordering too.
        self._base = queryset.all()
        self._base.query.clear_limits()
        self._base.query.clear_ordering(force=True, clear_default=True)
        # Inspecting a query can cache state on it (Query.base_table): the
        # plan chooser and the advisor get copies.
        self._requested_plan = plan
        self._plan_class = select_plan(plan, self._base.all(), keys)
        #: The name of the plan that fetches the pages.
        self.plan: str = self._plan_class.name
        #: Statements executed so far, retries included.
        self.queries = 0

        self._reader = RowReader(
            queryset, keys, getter=result_value_getter, getter_keys=user_keys
        )
        self._salt = _cursor.salt(model._meta.label, self.order_by)
        # The last row handed out is either settled in _position or, while
        # a page is being handed out row by row, found from _handing_out.
        self._position: tuple[Any, ...] | None = None
        self._handing_out: _Page | None = None
        self._handed = -1
        self._token: str | None = None
        self._token_position: tuple[Any, ...] | None = None
        if after is not None:
            self._position = _cursor.decode(after, salt=self._salt, length=len(keys))
            self._token, self._token_position = after, self._position
        # Where every iteration starts; the cursor moves on, this does not.
        self._start = self._position

        if check_index:
            # The advisor imports the schema tooling only when it is asked for.
            from rangeqs.advisor import check_index as advise  # noqa: PLC0415

            advise(self._base.all(), order_by=self.order_by, mode=check_index)

        # Rows past ``until`` are filtered out (the complement of a cursor's
        # "after", no query here); the NULL phases after its phase are left out
        # of the walk so that they cost no query either.
        self._until_phase: int | None = None
        if until is not None:
            end = _cursor.decode(until, salt=self._salt, length=len(keys))
            connection = connections[queryset.db]
            self._until_phase = until_phase(keys, end, connection)
            self._base = self._base.filter(at_or_before(keys, end, connection))

    @property
    def cursor(self) -> str | None:
        """A signed token of the last yielded row's keys, for ``after=``.

        None before the first row (unless the wrapper resumed from a token).
        """
        position = self._last_position()
        if position is None:
            return None
        if self._token is None or self._token_position != position:
            self._token = _cursor.encode(position, salt=self._salt)
            self._token_position = position
        return self._token

    def __iter__(self) -> Iterator[_Row]:
        for page in self._pages():
            self._handing_out = page
            for index, row in enumerate(self._announce(page)):
                self._handed = index
                yield row
            self._settle(page)

    def batches(self) -> Iterator[list[_Row]]:
        """Yield the rows of each query as a list."""
        for page in self._pages():
            rows = page.listed()
            self._announce(page)
            self._settle(page)
            yield rows

    async def abatches(self) -> AsyncIterator[list[_Row]]:
        """:meth:`batches` for ``async for``: each query runs through the async ORM."""
        async for page in self._apages():
            rows = page.listed()
            self._announce(page)
            self._settle(page)
            yield rows

    async def __aiter__(self) -> AsyncIterator[_Row]:
        async for page in self._apages():
            self._handing_out = page
            for index, row in enumerate(self._announce(page)):
                self._handed = index
                yield row
            self._settle(page)

    def _pages(self) -> Iterator[_Page]:
        """Each page that has rows."""
        walk = self._walk()
        while (request := walk.next_request()) is not None:
            page = walk.accept(request, self._fetch(request))
            if page.count:
                yield page

    async def _apages(self) -> AsyncIterator[_Page]:
        # The ORM is synchronous; Django's own async methods run it this way,
        # rows made in the worker thread too: making a model instance sends
        # signals whose receivers may query the database.
        walk = self._walk()

        def fetch(request: _Request) -> _Page:
            page = walk.accept(request, self._fetch(request))
            page.listed()
            return page

        while (request := walk.next_request()) is not None:
            page = await sync_to_async(fetch)(request)
            if page.count:
                yield page

    def _walk(self) -> _Walk:
        connection = connections[self.queryset.db]
        phases = split_phases(self._keys, connection)
        first = 0
        if self._start is not None:
            first = _phase_index(phases, self._start)
        bounded = -1
        if self.min_id is not None:
            # The NULLs of the key sort before min_id or after it, as the
            # database orders them: the phases before its values are out.
            bounded = next(i for i, phase in enumerate(phases) if not phase.null_keys)
        never_null = columns_never_null(self._base.all())
        base = self._reader.prepare(self._base)
        steps: list[_PhaseStart] = []
        for index, phase in enumerate(phases):
            if index < max(first, bounded):
                continue
            if self._until_phase is not None and index > self._until_phase:
                break
            if any(key.name in never_null for key in phase.null_keys):
                # The queryset's filters exclude these NULLs: no query needed.
                continue
            condition = phase.filters()
            if index == bounded:
                key = self._keys[0]
                lookup = "lte" if key.descending else "gte"
                condition &= Q(**{f"{key.name}__{lookup}": self.min_id})
            after = None
            if self._start is not None and index == first:
                after = phase.project(self._start)
            phase_queryset = base.filter(condition)
            plan = self._phase_plan_class(phase_queryset, phase)(
                phase_queryset, phase.keys
            )
            steps.append(_PhaseStart(phase, plan, after))
        return _Walk(self, steps)

    def _phase_plan_class(
        self, queryset: QuerySet[Any, Any], phase: Phase
    ) -> type[Plan]:
        """The plan for the rows of one NULL phase.

        Where leading keys are NULL the phase orders by the keys after them,
        and the plan chosen for the whole order may not apply: an IN list on
        a later key can lead the phase's order.
        """
        if phase.keys == self._keys:
            return self._plan_class
        if not phase.keys:
            return PlainPlan
        try:
            return select_plan(self._requested_plan, queryset, phase.keys)
        except InvalidQuerySetError:
            return select_plan("auto", queryset, phase.keys)

    def _fetch(self, request: _Request) -> Sequence[Any]:
        attempts = 0
        while True:
            before = request.plan.queries
            try:
                return request.plan.fetch_page(request.after, request.size)
            except OperationalError:
                if (
                    self.query_timeout_retries is None
                    or attempts >= self.query_timeout_retries
                ):
                    raise
                attempts += 1
            finally:
                self.queries += request.plan.queries - before
            time.sleep(self.retry_delay_seconds)

    def _announce(self, page: _Page) -> Iterable[Any]:
        """Run the callbacks; return the rows to hand out."""
        self._handed = -1
        if self.callbacks:
            rows = page.listed()
            for callback in self.callbacks:
                callback(rows)
        return page.rows

    def _settle(self, page: _Page) -> None:
        self._position = page.last_position()
        self._handing_out = None

    def _last_position(self) -> tuple[Any, ...] | None:
        """The keys of the row the caller received last."""
        if self._handing_out is not None and self._handed >= 0:
            return self._handing_out.position_of(self._handed)
        return self._position


def _phase_index(phases: Sequence[Phase], position: tuple[Any, ...]) -> int:
    for index, phase in enumerate(phases):
        if phase.holds(position):
            return index
    raise InvalidQuerySetError(
        "The cursor token holds NULL for a key that cannot be NULL: pass a token "
        "made for this model's current schema."
    )


@dataclass(frozen=True)
class _PhaseStart:
    phase: Phase
    plan: Plan
    after: tuple[Any, ...] | None


@dataclass(frozen=True)
class _Request:
    plan: Plan
    after: tuple[Any, ...] | None
    size: int


class _Walk:
    """Where an iteration stands: the phase, the position in it, rows left."""

    def __init__(
        self, wrapper: RangeQuerySetWrapper[Any], steps: list[_PhaseStart]
    ) -> None:
        self.wrapper = wrapper
        self.steps = steps
        self.remaining = wrapper.limit
        self.after = steps[0].after if steps else None

    def next_request(self) -> _Request | None:
        if not self.steps or self.remaining == 0:
            return None
        size = self.wrapper.step
        if self.remaining is not None:
            size = min(size, self.remaining)
        return _Request(self.steps[0].plan, self.after, size)

    def accept(self, request: _Request, rows: Sequence[Any]) -> _Page:
        """The fetched rows as the caller gets them, split before anyone sees them."""
        page = _Page(len(rows), *self.wrapper._reader.split_all(rows))
        if self.remaining is not None:
            self.remaining -= page.count
        if len(rows) < request.size:
            # A short page ends the phase: no query to find out it is empty.
            self.steps.pop(0)
            self.after = self.steps[0].after if self.steps else None
        else:
            self.after = self.steps[0].phase.project(page.last_position())
        return page


@dataclass
class _Page:
    count: int
    # Rows may be made as they are reached (rangeqs._plans.prepared.FetchedRows).
    rows: Iterable[Any]
    position_of: Callable[[int], tuple[Any, ...]]

    def listed(self) -> list[Any]:
        """The rows as a list, made once."""
        if not isinstance(self.rows, list):
            self.rows = list(self.rows)
        return self.rows

    def last_position(self) -> tuple[Any, ...]:
        return self.position_of(self.count - 1)


def _check_queryset(queryset: QuerySet[Any, Any]) -> None:
    query = queryset.query
    if query.low_mark:
        raise InvalidQuerySetError(
            f"The queryset is sliced from offset {query.low_mark}, which keyset "
            f"pagination does not use: remove the offset and start with min_id= "
            f"or after=."
        )
    if query.order_by or query.extra_order_by:
        raise InvalidQuerySetError(
            "The queryset has an explicit ordering, which the wrapper replaces with "
            "its keys: remove order_by() or extra(order_by=...) and pass order_by= "
            "to the wrapper instead."
        )
    if query.distinct:
        raise InvalidQuerySetError(
            "The queryset uses distinct(), whose rows have no keys to page by: "
            "remove distinct() and filter the rows with __in on a subquery instead."
        )
    if query.combinator:
        raise InvalidQuerySetError(
            f"The queryset is a {query.combinator}() of querysets, which cannot be "
            f"paged by keys: iterate each queryset with its own wrapper."
        )
