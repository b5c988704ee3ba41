"""Read key values from rows of any shape without changing what the caller gets.

The keys are selected as extra annotations (``rangeqs_key_0``, ...), which
Django appends after the caller's own columns; each row is split into the
caller's row and the key values before it is handed out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import F
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    NamedValuesListIterable,
    ValuesIterable,
    ValuesListIterable,
)
from django.db.models.utils import create_namedtuple_class

from rangeqs import _django
from rangeqs._plans.prepared import FetchedRows
from rangeqs._stored import (
    StoredColumn,
    needs_stored_column,
    position_value,
    stored_output_field,
)
from rangeqs.exceptions import InvalidQuerySetError, PositionNotAdvancingError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key

_ALIAS = "rangeqs_key_{}"
_STORED_ALIAS = "rangeqs_stored_{}"


class RowReader:
    """Select the keys a queryset lacks and split each fetched row.

    ``getter`` (the wrapper's ``result_value_getter``) supplies the first
    ``len(getter_keys)`` key values instead; the others are selected.
    """

    def __init__(
        self,
        queryset: QuerySet[Any, Any],
        keys: Sequence[Key],
        *,
        getter: Callable[[Any], Any] | None,
        getter_keys: Sequence[Key],
    ) -> None:
        self.iterable_class = _django.iterable_class(queryset)
        self.getter = getter
        self.getter_keys = tuple(getter_keys) if getter else ()
        self.selected_keys = tuple(keys[len(self.getter_keys) :])
        self.aliases = tuple(_ALIAS.format(i) for i in range(len(self.selected_keys)))
        known = (
            ModelIterable,
            ValuesIterable,
            ValuesListIterable,
            NamedValuesListIterable,
            FlatValuesListIterable,
        )
        if self.selected_keys and self.iterable_class not in known:
            raise InvalidQuerySetError(
                f"The queryset yields rows through {self.iterable_class.__name__}, "
                f"whose key values the wrapper cannot read: pass result_value_getter."
            )
        self.attnames = tuple(key.name for key in self.selected_keys)
        self.connection = connections[queryset.db]
        self._defers_nothing = _django.defers_nothing(queryset)
        self._choose_columns(compiled_pages=True)

    def _choose_columns(self, *, compiled_pages: bool) -> None:
        """Which columns the pages add to the caller's, for pages compiled
        once or (``compiled_pages`` false) ordinary querysets."""
        self.compiled_pages = compiled_pages
        # A model instance with no deferred field already holds every key:
        # reading them costs less than fetching them a second time. Pages of
        # ordinary querysets have no fetched values to read, and an instance
        # shows what from_db() made of them: there the keys are selected.
        self.keys_on_instance = compiled_pages and self._defers_nothing
        # Keys whose stored value sqlite3 parses are selected once more as
        # stored (rangeqs._stored), for positions in the database's own order.
        # Ordinary querysets see only converted values: there every key
        # Django converts is selected so.
        self.stored_aliases = tuple(
            _STORED_ALIAS.format(i)
            if needs_stored_column(
                key.field, self.connection, converted_rows=not compiled_pages
            )
            else None
            for i, key in enumerate(self.selected_keys)
        )
        # The columns added to the caller's, in the order they are selected.
        self.added = (() if self.keys_on_instance else self.aliases) + tuple(
            alias for alias in self.stored_aliases if alias is not None
        )

    def prepare(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        """The queryset that fetches the caller's columns and then the keys.

        Called when the first walk starts: the pages' path is read then, as
        the plans read it (rangeqs._django.compiled_pages).
        """
        self._choose_columns(compiled_pages=_django.compiled_pages(queryset))
        if not self.added:
            return queryset
        annotations: dict[str, Any] = {}
        if not self.keys_on_instance:
            annotations.update(
                (alias, F(key.name))
                for alias, key in zip(self.aliases, self.selected_keys, strict=True)
            )
        for alias, key in zip(self.stored_aliases, self.selected_keys, strict=True):
            if alias is not None:
                annotations[alias] = StoredColumn(
                    F(key.name), output_field=stored_output_field(key.field)
                )
        prepared: QuerySet[Any, Any] = queryset.annotate(**annotations)
        # A flat row is its first column only; fetch tuples to see the keys.
        return _django.with_tuple_rows(prepared)

    def split_all(
        self, rows: Sequence[Any]
    ) -> tuple[Iterable[Any], Callable[[int], tuple[Any, ...]]]:
        """The caller's rows, and the position of the row at an index.

        A position is read from the row as fetched, whatever the caller does
        to the row it receives (``delete()`` sets an instance's pk to None).
        """
        if isinstance(rows, FetchedRows):
            return self._split_fetched(rows)
        split = [self.split(row) for row in rows]
        return [row for row, _ in split], lambda index: split[index][1]

    def _split_fetched(
        self, rows: FetchedRows
    ) -> tuple[Iterable[Any], Callable[[int], tuple[Any, ...]]]:
        """Rows made as they are reached; positions from what was fetched."""
        read_keys = (
            None if self.getter else rows.key_reader(self.attnames, self.stored_aliases)
        )

        def position_of(index: int) -> tuple[Any, ...]:
            if read_keys is not None:
                return read_keys(index)
            # Each index makes a fresh row that no caller has held.
            return self.split(rows[index])[1]

        if not self.added:
            # Nothing to take out of the rows.
            return rows, position_of
        return (self.split(row)[0] for row in rows), position_of

    def split(self, row: Any) -> tuple[Any, tuple[Any, ...]]:
        """The caller's row and its full position."""
        row, selected = self._split_selected(row)
        if not self.getter:
            return row, selected
        return row, (*self._from_getter(row), *selected)

    def _split_selected(self, row: Any) -> tuple[Any, tuple[Any, ...]]:
        if not self.selected_keys:
            return row, ()
        added = self.added
        iterable_class = self.iterable_class
        if iterable_class is ModelIterable:
            loaded = row.__dict__
            popped = {alias: loaded.pop(alias) for alias in added}
            if self.keys_on_instance:
                keys = tuple(loaded[attname] for attname in self.attnames)
                return row, self._as_stored(keys, popped)
            keys = tuple(popped[alias] for alias in self.aliases)
            return row, self._as_stored(keys, popped)
        if iterable_class is ValuesIterable:
            popped = {alias: row.pop(alias) for alias in added}
            keys = tuple(popped[alias] for alias in self.aliases)
            return row, self._as_stored(keys, popped)
        values = tuple(row)
        head, tail = values[: -len(added)], values[-len(added) :]
        keys = self._as_stored(
            tail[: len(self.aliases)], dict(zip(added, tail, strict=True))
        )
        if iterable_class is FlatValuesListIterable:
            return head[0], keys
        if iterable_class is NamedValuesListIterable:
            names = [name for name in row._fields if name not in added]
            return create_namedtuple_class(*names)(*head), keys
        return head, keys

    def _as_stored(
        self, keys: tuple[Any, ...], popped: dict[str, Any]
    ) -> tuple[Any, ...]:
        """``keys`` as positions: a value that would not bind back to what
        the database stored is the stored value (rangeqs._stored)."""
        if not any(self.stored_aliases):
            return keys
        return tuple(
            value
            if alias is None
            else position_value(key.field, value, popped[alias], self.connection)
            for value, alias, key in zip(
                keys, self.stored_aliases, self.selected_keys, strict=True
            )
        )

    def _from_getter(self, row: Any) -> tuple[Any, ...]:
        assert self.getter is not None
        result = self.getter(row)
        if len(self.getter_keys) == 1:
            return (result,)
        if isinstance(result, dict):
            try:
                return tuple(result[key.name] for key in self.getter_keys)
            except KeyError as missing:
                raise InvalidQuerySetError(
                    f"result_value_getter returned a dict without the key {missing}: "
                    f"return a dict with every order_by key, by column name."
                ) from None
        values = tuple(result)
        if len(values) != len(self.getter_keys):
            raise InvalidQuerySetError(
                f"result_value_getter returned {len(values)} values for "
                f"{len(self.getter_keys)} order_by keys: return one value per key."
            )
        return values


def check_advanced(
    after: tuple[Any, ...], first: tuple[Any, ...], last: tuple[Any, ...]
) -> None:
    """Raise where a page strictly after ``after`` starts or ends at ``after``.

    The keys are unique, so the page has come back to the row it was to
    follow: the position names another point of the database's order than
    the row it was read from, and the next page would be this one again.
    """
    if after in (first, last):
        raise PositionNotAdvancingError(
            f"The page after position {after!r} came back to that row, so its key "
            f"values as read do not bind back to what the database stores: return "
            f"the stored values from result_value_getter (or leave it out), or "
            f"re-save the rows so that Django writes them in its own form."
        )
