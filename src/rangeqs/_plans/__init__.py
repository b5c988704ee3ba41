"""Plans: how the wrapper fetches each page (see ``rangeqs._plans.base``)."""

from __future__ import annotations

from rangeqs._plans.base import PageStrategy
from rangeqs._plans.plain import PlainPlan
from rangeqs._plans.select import (
    PLAN_NAMES,
    PlanChoice,
    PlanName,
    check_plan,
    choose_plan,
)

__all__ = [
    "PLAN_NAMES",
    "PageStrategy",
    "PlainPlan",
    "PlanChoice",
    "PlanName",
    "check_plan",
    "choose_plan",
]
