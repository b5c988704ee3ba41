"""RangeQuerySetWrapper: keyset iteration over a filtered, ordered queryset."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from asgiref.sync import sync_to_async
from django.db import OperationalError, connections
from django.db.models import Q

from rangeqs import _cursor
from rangeqs._declared_indexes import IndexFacts, declared_indexes, pk_is_rowid
from rangeqs._django import query
from rangeqs._keys import resolve_keys
from rangeqs._keyset import at_or_before, columns_never_null, split_phases, until_phase
from rangeqs._plans import check_plan, choose_plan
from rangeqs._plans.bounded import SETTINGS_COMMENT
from rangeqs._plans.plain import PlainPlan
from rangeqs._plans.select import PlanChoice
from rangeqs._rows import RowReader
from rangeqs._validate import check_arguments
from rangeqs._walk import Leg, Page, Position, RowInHand, Walk
from rangeqs._warnings import already_warned, warn_once_for
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence

    from django.db.models import Manager, QuerySet

    from rangeqs._declared_indexes import ModelIndex
    from rangeqs._keys import Key
    from rangeqs._keyset import Phase
    from rangeqs._plans import PageStrategy, PlanName

_Row = TypeVar("_Row")


class RangeQuerySetWrapper(Generic[_Row]):
    """Iterate ``queryset`` in pages of ``step`` rows, each one keyset query.

    Every row is yielded once, in the order of ``order_by``. Each page is
    ``WHERE <the queryset's filters> AND <keys> > <last keys> ORDER BY <keys>
    LIMIT step``, so its cost does not grow with the position.

    Args:
        queryset: A queryset (or a Manager, iterated as ``manager.all()``)
            without an explicit ordering, ``reverse()``, offset,
            ``distinct()``, set operation, GROUP BY, window expression, or a
            join to a multi-valued relation. A slice ``[:n]`` acts as
            ``limit``. ``values()`` and ``values_list()`` rows come back in
            the shape the caller asked for.
        step: Rows per query. A negative step iterates in reverse order.
        limit: Yield at most this many rows.
        min_id: Start at this value of the (single) key, inclusive.
        order_by: A field name, or a sequence of names for a compound key;
            ``-name`` is descending. ``"pk"`` is the primary key; foreign keys
            may be named by attname (``"group_id"``).
        use_compound_keyset_pagination: Accepted for Sentry compatibility:
            compound ``order_by`` is always paged by the whole key. ``True``
            refuses ``min_id``, as Sentry does.
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
        plan: How pages are fetched; ``"auto"`` picks one for the queryset
            and each NULL phase when the walk starts (:attr:`plans`).

    Construction checks the arguments and runs no query: the database is
    first asked when the first page is fetched.
    """

    def __init__(
        self,
        queryset: QuerySet[Any, _Row] | Manager[_Row],  # type: ignore[type-var]
        *,
        step: int = 1000,
        limit: int | None = None,
        min_id: Any = None,
        order_by: str | Sequence[str] = "pk",
        use_compound_keyset_pagination: bool = False,
        callbacks: Iterable[Callable[[list[_Row]], object]] = (),
        result_value_getter: Callable[[_Row], Any] | None = None,
        override_unique_safety_check: bool = False,
        query_timeout_retries: int | None = None,
        retry_delay_seconds: float = 0.5,
        after: str | None = None,
        until: str | None = None,
        check_index: bool | Literal["error"] = False,
        plan: PlanName = "auto",
    ) -> None:
        queryset, checked_callbacks = check_arguments(
            queryset,
            step=step,
            limit=limit,
            min_id=min_id,
            order_by=order_by,
            use_compound_keyset_pagination=use_compound_keyset_pagination,
            callbacks=callbacks,
            result_value_getter=result_value_getter,
            override_unique_safety_check=override_unique_safety_check,
            query_timeout_retries=query_timeout_retries,
            retry_delay_seconds=retry_delay_seconds,
            after=after,
            check_index=check_index,
        )
        stop = query.slice_stop(queryset)
        if stop is not None:
            limit = stop if limit is None else min(limit, stop)

        self.queryset = queryset
        self.limit = limit
        self.step = min(limit, abs(step)) if limit else abs(step)
        self.min_id = min_id
        self.callbacks = checked_callbacks
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
        user_keys = keys[: len(keys) - tie_breaker_added]
        self._keys: tuple[Key, ...] = keys
        #: The keys in use, ``-`` for descending, pk tie-breaker included.
        self.order_by: tuple[str, ...] = tuple(key.ordering for key in keys)
        # Every page starts from this: the slice became ``limit``, each page
        # sets its own, and the keys replace any ordering, Meta.ordering too.
        # (order_by() clears the ordering and the default one, as Django
        # documents it, once the slice is gone.)
        self._base = query.unsliced(queryset).order_by()
        # Inspecting a query can cache state on it (Query.base_table): the
        # plan checks, the chooser and the advisor get copies.
        check_plan(plan, self._base, keys)
        self._check_phase_plans(plan)
        self._requested_plan = plan
        # Chosen when the walk starts: choosing reads facts of the database.
        self._choice: PlanChoice | None = None
        self._indexes: tuple[ModelIndex, ...] | None = None
        self._legs: tuple[Leg, ...] | None = None
        #: Statements executed so far, retries included.
        self.queries = 0

        self._reader = RowReader(
            queryset, keys, getter=result_value_getter, getter_keys=user_keys
        )
        self._salt = _cursor.salt(model._meta.label, self.order_by)
        # Where every iteration starts; the position moves on, this does not.
        self._start: tuple[Any, ...] | None = None
        if after is not None:
            self._start = _cursor.decode(after, salt=self._salt, length=len(keys))
        # Where the caller stands: the last row received.
        self._position: Position | RowInHand = Position(self._start, token=after)

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
    def plan(self) -> str:
        """The name of the plan that fetches the pages of the full key order
        (the only phase unless a leading key is nullable).

        Chosen when the walk starts, or when this is read before it.
        """
        return self._first_choice().plan.name

    @property
    def plans(self) -> tuple[str, ...]:
        """The plan of each NULL phase the walk visits, in the order visited.

        Chosen when the walk starts, or when this is read before it.
        """
        return tuple(leg.choice.plan.name for leg in self._walk_legs())

    @property
    def cursor(self) -> str | None:
        """A signed token of the last yielded row's keys, for ``after=``.

        None before the first row (unless the wrapper resumed from a token).
        """
        return self._position.position().token(self._encode)

    def __iter__(self) -> Iterator[_Row]:
        for page in self._pages():
            yield from self._hand_out(page)

    def batches(self) -> Iterator[list[_Row]]:
        """Yield the rows of each query as a list."""
        for page in self._pages():
            yield self._hand_out_batch(page)

    async def abatches(self) -> AsyncIterator[list[_Row]]:
        """:meth:`batches` for ``async for``: each query runs through the async ORM."""
        async for page in self._apages():
            yield self._hand_out_batch(page)

    async def __aiter__(self) -> AsyncIterator[_Row]:
        async for page in self._apages():
            for row in self._hand_out(page):
                yield row

    def _pages(self) -> Iterator[Page]:
        walk = self._start_walk()
        while (page := walk.next_page()) is not None:
            yield page

    async def _apages(self) -> AsyncIterator[Page]:
        # The ORM is synchronous; Django's own async methods run it this way,
        # rows made in the worker thread too: making a model instance sends
        # signals whose receivers may query the database. Choosing the plans
        # reads facts of the database (its version, on MariaDB): there too.
        walk = await sync_to_async(self._start_walk)()
        next_page = sync_to_async(walk.next_page)
        while (page := await next_page(load_rows=True)) is not None:
            yield page

    def _hand_out(self, page: Page) -> Iterator[Any]:
        """The rows of ``page``, after the callbacks; the position follows."""
        self._run_callbacks(page)
        in_hand = RowInHand(page.position_of, previous=self._position.position())
        self._position = in_hand
        for index, row in enumerate(page.rows):
            in_hand.index = index
            yield row
        self._position = page.last_position()

    def _hand_out_batch(self, page: Page) -> list[Any]:
        rows = page.rows_as_list()
        self._run_callbacks(page)
        self._position = page.last_position()
        return rows

    def _run_callbacks(self, page: Page) -> None:
        if self.callbacks:
            rows = page.rows_as_list()
            for callback in self.callbacks:
                callback(rows)

    def _encode(self, keys: tuple[Any, ...]) -> str:
        return _cursor.encode(keys, salt=self._salt)

    def _start_walk(self) -> Walk:
        """A walk from the start (``after=``, ``min_id``), plans chosen."""
        legs = self._walk_legs()
        for leg in legs:
            self._warn_unserved(leg)
        return Walk(
            legs,
            step=self.step,
            limit=self.limit,
            reader=self._reader,
            fetch=self._fetch,
        )

    def _walk_legs(self) -> tuple[Leg, ...]:
        """The phases a walk visits, each with its plan (chosen once)."""
        if self._legs is not None:
            return self._legs
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
        legs: list[Leg] = []
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
            legs.append(
                Leg(
                    phase,
                    phase_queryset,
                    self._phase_choice(phase_queryset, phase),
                    after,
                )
            )
        self._legs = tuple(legs)
        return self._legs

    def _phase_choice(self, queryset: QuerySet[Any, Any], phase: Phase) -> PlanChoice:
        """The plan for the rows of one NULL phase.

        Where leading keys are NULL the phase orders by the keys after them:
        "auto" chooses again, since an IN list on a later key can lead the
        phase's order; an explicit plan was checked against every phase at
        construction. The NULL row of a keyless phase (one at most) is one
        plain query.
        """
        if phase.keys == self._keys:
            return self._first_choice()
        if not phase.keys:
            return PlanChoice(PlainPlan)
        return self._choose(self._requested_plan, queryset, phase.keys)

    def _first_choice(self) -> PlanChoice:
        if self._choice is None:
            self._choice = self._choose(
                self._requested_plan, self._base.all(), self._keys
            )
        return self._choice

    def _choose(
        self, requested: str, queryset: QuerySet[Any, Any], keys: Sequence[Key]
    ) -> PlanChoice:
        connection = connections[self.queryset.db]
        if self._indexes is None:
            model = self.queryset.model
            self._indexes = declared_indexes(
                model,
                IndexFacts.read(connection),
                pk_is_rowid=pk_is_rowid(model, connection),
            )
        return choose_plan(
            requested, queryset, keys, indexes=self._indexes, vendor=connection.vendor
        )

    def _check_phase_plans(self, plan: str) -> None:
        """Refuse an explicit plan that cannot fetch a NULL phase's rows: the
        phases and their orders are known without a query."""
        if plan in ("auto", "plain") or not self._keys[0].nullable:
            # Only a nullable leading key splits the order into phases.
            return
        phases = split_phases(self._keys, connections[self.queryset.db])
        bounded = -1
        if self.min_id is not None:
            bounded = next(i for i, phase in enumerate(phases) if not phase.null_keys)
        never_null = columns_never_null(self._base.all())
        for index, phase in enumerate(phases):
            if index < bounded or not phase.keys or phase.keys == self._keys:
                continue
            if any(key.name in never_null for key in phase.null_keys):
                continue
            try:
                check_plan(plan, self._base.filter(phase.filters()), phase.keys)
            except InvalidQuerySetError:
                nulls = " and ".join(key.name for key in phase.null_keys)
                order = tuple(key.ordering for key in phase.keys)
                raise InvalidQuerySetError(
                    f"plan={plan!r} cannot fetch the rows where {nulls} IS NULL, "
                    f"which are ordered by {order!r}: pass plan='auto' to choose a "
                    f"plan per NULL phase, or exclude them with "
                    f"{phase.null_keys[0].name}__isnull=False."
                ) from None

    def _warn_unserved(self, leg: Leg) -> None:
        """Log the advisor's report for a shape no plan bounds, once."""
        key = leg.choice.unserved
        if key is None or already_warned(key):
            return
        # The advisor names indexes with the schema editor: imported, and
        # run, only for a shape that needs its advice.
        from rangeqs.advisor import advise  # noqa: PLC0415

        # The full order's plan was chosen on the caller's queryset.
        queryset = self._base.all() if leg.phase.keys == self._keys else leg.queryset
        orderings = [k.ordering for k in leg.phase.keys]
        warn_once_for(key, lambda: str(advise(queryset, order_by=orderings)))

    def _fetch(
        self, plan: PageStrategy, after: tuple[Any, ...] | None, size: int
    ) -> Sequence[Any]:
        """One page, retried on OperationalError; every statement counted."""
        attempts = 0
        with connections[self.queryset.db].execute_wrapper(self._count_statement):
            while True:
                try:
                    return plan.fetch_page(after, size)
                except OperationalError:
                    if (
                        self.query_timeout_retries is None
                        or attempts >= self.query_timeout_retries
                    ):
                        raise
                    attempts += 1
                time.sleep(self.retry_delay_seconds)

    def _count_statement(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: Any,
    ) -> Any:
        # Counted once the database has answered, failed statements too: a
        # caller watching the count sees an attempt that is over. A guarded
        # page's planner settings fetch no rows: not a query of the walk.
        try:
            return execute(sql, params, many, context)
        finally:
            if not sql.startswith(SETTINGS_COMMENT):
                self.queries += 1


def _phase_index(phases: Sequence[Phase], position: tuple[Any, ...]) -> int:
    for index, phase in enumerate(phases):
        if phase.holds(position):
            return index
    raise InvalidQuerySetError(
        "The cursor token holds NULL for a key that cannot be NULL: pass a token "
        "made for this model's current schema."
    )
