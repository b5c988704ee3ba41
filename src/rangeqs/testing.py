"""A test helper: fail a test when no index serves a keyset walk.

from rangeqs.testing import assert_index_serves

def test_deletion_task_pages_are_served():
    assert_index_serves(
        GroupHash.objects.filter(project_id=1, group_id__in=[1, 2]),
        order_by=("group_id", "id"),
    )
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rangeqs.advisor import advise

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs.advisor import Report

__all__ = ["assert_index_serves"]


def assert_index_serves(
    queryset: QuerySet[Any],
    *,
    order_by: str | Sequence[str],
    using: str | None = None,
    verify: bool = False,
    step: int = 100,
) -> Report:
    """Raise AssertionError, with the advisor's whole report as the message,
    unless one index serves ``order_by`` under the queryset's filters.

    Static: it reads the model's indexes and runs no query, so it holds on an
    empty test database. ``using`` names the database whose rules apply
    (MariaDB, for one, appends the primary key to every index); the default
    is the queryset's. Returns the report.

    ``verify=True`` also asks the live planner, on a database filled and
    analysed like production: it fails, with the live report as the message,
    when a page of ``step`` rows at the start, middle or end of the walk does
    not read that index or sorts (``Report.verify_planner()``).
    """
    report = advise(queryset, order_by=order_by, using=using)
    if not report.served:
        raise AssertionError(f"No index serves this keyset walk.\n{report}")
    if verify:
        live = report.verify_planner(using, step=step)
        if not live.served_by_planner:
            raise AssertionError(
                f"The live planner does not use the serving index.\n{live}"
            )
    return report
