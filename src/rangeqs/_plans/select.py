"""Choose the plan for a queryset (``plan=`` of the wrapper)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from rangeqs._plans.plain import PlainPlan
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key
    from rangeqs._plans.base import Plan

PlanName = Literal["auto", "plain", "merge", "partition"]
PLAN_NAMES: tuple[str, ...] = ("auto", "plain", "merge", "partition")


def select_plan(
    requested: str, queryset: QuerySet[Any, Any], keys: Sequence[Key]
) -> type[Plan]:
    """The plan class for ``requested``; "auto" picks one for the queryset's shape."""
    if requested not in PLAN_NAMES:
        raise InvalidQuerySetError(
            f"plan={requested!r} is not a plan: use one of "
            f"{', '.join(map(repr, PLAN_NAMES))}."
        )
    if requested in ("auto", "plain"):
        return PlainPlan
    raise InvalidQuerySetError(
        f"plan={requested!r} is not available in this version: use plan='plain' "
        f"or 'auto'."
    )
