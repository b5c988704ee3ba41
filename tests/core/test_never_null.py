"""Which key columns the filters keep non-NULL (one NULL phase or several):
read from the one walk of the WHERE tree in rangeqs._where."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db.models import F, Q

from rangeqs._keyset import columns_never_null
from tests.testapp.models import Entry

if TYPE_CHECKING:
    from django.db.models import QuerySet


@pytest.mark.parametrize(
    ("queryset", "never_null"),
    [
        (Entry.objects.all(), set()),
        (Entry.objects.filter(a__in=[1, 2]), {"a"}),
        (Entry.objects.filter(a__isnull=False, c__gt=3), {"a", "c"}),
        (Entry.objects.filter(a__isnull=True), set()),
        (Entry.objects.filter(Q(a=1) | Q(c=2)), set()),
        (Entry.objects.exclude(a=1), set()),
        (Entry.objects.filter(Q(a=1) & (Q(c__range=(1, 2)))), {"a", "c"}),
        # A comparison of two columns is no index bound, but no NULL meets it.
        (Entry.objects.filter(a=F("c")), {"a"}),
        (Entry.objects.filter(owner__isnull=False), {"owner_id"}),
        # A condition on a joined table says nothing of this table's columns.
        (Entry.objects.filter(owner__name__in=["x"]), set()),
    ],
    ids=lambda value: "" if isinstance(value, set) else str(value.query.where),
)
def test_columns_never_null_counts_only_conditions_every_row_meets(
    queryset: QuerySet[Any], never_null: set[str]
) -> None:
    assert columns_never_null(queryset) == never_null
