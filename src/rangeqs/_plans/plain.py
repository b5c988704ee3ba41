"""The plain plan: one keyset query per page."""

from __future__ import annotations

from typing import Any

from django.db import connections

from rangeqs._keyset import after as after_condition
from rangeqs._plans.base import Plan


class PlainPlan(Plan):
    """``filter(<after position>).order_by(<keys>)[:size]``: a textbook keyset page."""

    name = "plain"

    def fetch_page(self, after: tuple[Any, ...] | None, size: int) -> list[Any]:
        queryset = self.queryset
        if after is not None:
            connection = connections[queryset.db]
            queryset = queryset.filter(after_condition(self.keys, after, connection))
        return self.run(self.ordered(queryset)[:size])
