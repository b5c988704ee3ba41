"""Property: the index the advisor recommends is one its own rule calls served."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from rangeqs._keys import resolve_keys
from rangeqs._where import where_conditions
from rangeqs.advisor import advise
from rangeqs.advisor._indexes import model_indexes
from rangeqs.advisor._rules import fit_index, reason
from tests.testapp.models import AdvisedEvent

pytestmark = pytest.mark.django_db

COLUMNS = ["project", "group", "kind", "created", "batch", "code", "deleted"]
VALUES: dict[str, Any] = {"deleted": False, "code": "c1"}

filters = st.lists(
    st.tuples(st.sampled_from(COLUMNS), st.sampled_from(["exact", "in", "gt"])),
    max_size=4,
    unique_by=lambda item: item[0],
)
orders = st.lists(
    st.tuples(st.sampled_from([*COLUMNS, "id"]), st.booleans()),
    min_size=1,
    max_size=3,
    unique_by=lambda item: item[0],
)


def _queryset(shape: list[tuple[str, str]]) -> Any:
    queryset = AdvisedEvent.objects.all()
    for column, lookup in shape:
        value = VALUES.get(column, 1)
        if lookup == "in":
            queryset = queryset.filter(**{f"{column}__in": [value, value]})
        elif lookup == "gt" and column not in VALUES:
            queryset = queryset.filter(**{f"{column}__gt": value})
        else:
            queryset = queryset.filter(**{column: value})
    return queryset


@given(shape=filters, order=orders)
def test_a_recommended_index_serves_the_shape(
    shape: list[tuple[str, str]], order: list[tuple[str, bool]]
) -> None:
    queryset = _queryset(shape)
    order_by = [f"-{name}" if descending else name for name, descending in order]
    report = advise(queryset, order_by=order_by)
    recommendation = report.recommendation
    if report.served:
        assert recommendation is None
        return
    if recommendation is None:
        return
    model = AdvisedEvent
    index = recommendation.index()
    declared = model._meta.indexes
    # Read the index as if the model declared it, with this database's rules.
    model._meta.indexes = [*declared, index]
    try:
        (added,) = [i for i in model_indexes(model, connection) if i.name == index.name]
    finally:
        model._meta.indexes = declared
    keys, _ = resolve_keys(model, order_by, reverse=False, add_tie_breaker=True)
    bounding = [c for c in where_conditions(queryset) if c.can_bound_index]
    fit = fit_index(model, added, bounding, keys, vendor=connection.vendor)
    assert fit.served, reason(fit, keys)
    assert fit.bounded_by or not where_conditions(queryset)
