"""Read key values from rows of any shape without changing what the caller gets.

The keys are selected as extra annotations (``rangeqs_key_0``, ...), which
Django appends after the caller's own columns; each row is split into the
caller's row and the key values before it is handed out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    NamedValuesListIterable,
    ValuesIterable,
    ValuesListIterable,
)
from django.db.models.utils import create_namedtuple_class

from rangeqs._plans.prepared import FetchedRows
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key

_ALIAS = "rangeqs_key_{}"


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
        self.iterable_class = queryset._iterable_class
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
        # A model instance with no deferred field already holds every key:
        # reading them costs less than fetching them a second time.
        self.keys_on_instance = self.iterable_class is ModelIterable and (
            queryset.query.deferred_loading == (frozenset(), True)
        )
        self.attnames = tuple(key.name for key in self.selected_keys)

    def prepare(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        """The queryset that fetches the caller's columns and then the keys."""
        if not self.selected_keys or self.keys_on_instance:
            return queryset
        prepared: QuerySet[Any, Any] = queryset.annotate(
            **{
                alias: F(key.name)
                for alias, key in zip(self.aliases, self.selected_keys, strict=True)
            }
        )
        if self.iterable_class is FlatValuesListIterable:
            # A flat row is its first column only; fetch tuples to see the keys.
            prepared._iterable_class = ValuesListIterable
        return prepared

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
        read_keys = None if self.getter else rows.key_reader(self.attnames)

        def position_of(index: int) -> tuple[Any, ...]:
            if read_keys is not None:
                return read_keys(index)
            # Each index makes a fresh row that no caller has held.
            return self.split(rows[index])[1]

        if not self.selected_keys or (self.keys_on_instance and not self.getter):
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
        count = len(self.aliases)
        iterable_class = self.iterable_class
        if self.keys_on_instance:
            loaded = row.__dict__
            return row, tuple(loaded[attname] for attname in self.attnames)
        if iterable_class is ModelIterable:
            return row, tuple(row.__dict__.pop(alias) for alias in self.aliases)
        if iterable_class is ValuesIterable:
            return row, tuple(row.pop(alias) for alias in self.aliases)
        values = tuple(row)
        head, keys = values[:-count], values[-count:]
        if iterable_class is FlatValuesListIterable:
            return head[0], keys
        if iterable_class is NamedValuesListIterable:
            names = [name for name in row._fields if name not in self.aliases]
            return create_namedtuple_class(*names)(*head), keys
        return head, keys

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
