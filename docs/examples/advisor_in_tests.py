"""How-to: fail a test when a keyset walk loses the index that serves it."""

from __future__ import annotations

from rangeqs.examples.grouphash.models import GroupHash
from rangeqs.testing import assert_index_serves


def test_deletion_walk_is_served_by_an_index() -> None:
    # Static: no rows needed, no query run. It fails with the advisor's whole
    # report when a migration drops the index or the filters change shape.
    assert_index_serves(
        GroupHash.objects.filter(project_id=1, group_id__in=[11, 12, 13]),
        order_by=("group_id", "id"),
    )
