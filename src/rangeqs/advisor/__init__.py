"""The index advisor (issue 3). Placeholder until it lands: only the hook the wrapper calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

__all__ = ["check_index"]


def check_index(
    queryset: QuerySet[Any],
    *,
    order_by: Sequence[str],
    mode: Literal[True, "error"],
) -> None:
    """Warn on logger "rangeqs" (mode=True) or raise InvalidQuerySetError
    (mode="error") when no index serves ``order_by`` under the queryset's filters.

    Static check only: it must not run a query.
    """
    raise NotImplementedError("The index advisor is being built (issue 3).")
