"""The plain plan: one keyset query per page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connections

from rangeqs._plans.base import Plan
from rangeqs._plans.prepared import (
    PreparedPage,
    null_pattern,
    slots_for,
    slotted_after,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key


class PlainPlan(Plan):
    """``filter(<after position>).order_by(<keys>)[:size]``: a textbook keyset page."""

    name = "plain"

    def __init__(self, queryset: QuerySet[Any, Any], keys: Sequence[Key]) -> None:
        super().__init__(queryset, keys)
        self._prepared: dict[tuple[int, tuple[bool, ...]], PreparedPage] = {}

    def fetch_page(self, after: tuple[Any, ...] | None, size: int) -> list[Any]:
        if after is None:
            return self.run(self.ordered(self.queryset)[:size])
        # Pages differ only in the position: compiled once, then rebound.
        shape = (size, null_pattern(after))
        page = self._prepared.get(shape)
        if page is None:
            connection = connections[self.queryset.db]
            strictly_after = slotted_after(
                self.keys, slots_for(self.keys, after), connection
            )
            queryset = self.ordered(self.queryset.filter(strictly_after))
            page = PreparedPage(queryset[:size], [key.field for key in self.keys])
            self._prepared[shape] = page
        self.queries += 1
        return page.rows(after)
