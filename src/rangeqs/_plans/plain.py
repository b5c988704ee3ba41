"""The plain plan: one keyset query per page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rangeqs._plans.base import PageStrategy
from rangeqs._plans.prepared import PreparedPages

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key


class PlainPlan(PageStrategy):
    """``filter(<after position>).order_by(<keys>)[:size]``: a textbook keyset page."""

    name = "plain"

    def __init__(self, queryset: QuerySet[Any, Any], keys: Sequence[Key]) -> None:
        super().__init__(queryset, keys)
        # Pages differ only in the position: compiled once, then rebound.
        self._pages = PreparedPages(
            self.queryset, self.keys, guard=self.guard, compiled=self.compiled_pages
        )

    def fetch_page(self, after: tuple[Any, ...] | None, size: int) -> Sequence[Any]:
        return self._pages.rows(after, size)
