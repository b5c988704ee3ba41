from __future__ import annotations

import json

import pytest
from django.db import models

from rangeqs.advisor import advise
from rangeqs.examples.grouphash.models import GroupHash
from tests.testapp.models import AdvisedEvent, IndexedThing

pytestmark = pytest.mark.django_db


def test_equality_columns_come_first_in_filter_order_then_the_keys() -> None:
    report = advise(
        IndexedThing.objects.filter(c=1, owner_id=2), order_by=("-bucket", "id")
    )
    assert report.recommendation is not None
    # A backward scan serves the reversed order: the first key goes ascending.
    assert report.recommendation.fields == ("c", "owner", "bucket", "-id")


def test_a_key_fixed_by_equality_is_an_equality_column() -> None:
    report = advise(
        GroupHash.objects.filter(state=4).filter(hash="x"), order_by=("state", "id")
    )
    assert report.recommendation is not None
    assert report.recommendation.fields == ("state", "hash", "id")


def test_nothing_is_recommended_when_an_index_already_covers_it() -> None:
    # (id) is the primary key: the way out of an IN list is the order or the
    # merge plan, not another index.
    report = advise(GroupHash.objects.filter(group_id__in=[1, 2]), order_by="id")
    assert not report.served
    assert report.recommendation is None


def test_nothing_is_recommended_when_served() -> None:
    assert (
        advise(AdvisedEvent.objects.filter(group=1), order_by="id").recommendation
        is None
    )


def test_names_fit_djangos_limit_and_read_well_when_short() -> None:
    short = advise(GroupHash.objects.filter(state=1), order_by="id").recommendation
    assert short is not None
    assert short.name == "sentry_grouphash_state_id_idx"
    long = advise(AdvisedEvent.objects.filter(created=1), order_by="id").recommendation
    assert long is not None
    assert len(long.name) <= 30
    assert long.name.endswith("_idx")


def test_operation_source_is_a_migration_operation() -> None:
    recommendation = advise(
        GroupHash.objects.filter(state=1), order_by="id"
    ).recommendation
    assert recommendation is not None
    assert recommendation.operation_source() == (
        "AddIndexNonBlocking(\n"
        "    model_name='grouphash',\n"
        "    index=models.Index(fields=['state', 'id'], "
        "name='sentry_grouphash_state_id_idx'),\n"
        ")"
    )
    operation = recommendation.operation()
    assert isinstance(operation.index, models.Index)
    assert operation.index.fields == ["state", "id"]


def test_report_reads_as_text_and_as_json() -> None:
    # Chained filter() calls keep their order (one call sorts its keywords).
    report = advise(GroupHash.objects.filter(state=1).filter(hash="x"), order_by="id")
    assert str(report).splitlines()[:5] == [
        "rangeqs index advice for grouphash.GroupHash, order_by=('id',)",
        "NOT SERVED: no index narrows the scan by the filters.",
        f"Index: {report.index_name}",
        "Residual filters: state, hash",
        "Why:",
    ]
    assert str(report).endswith(
        "Recommendation: add index sentry_grou_state_42c91b_idx on (state, hash, id),"
        " in a migration with atomic = False:\n"
        "    AddIndexNonBlocking(\n"
        "        model_name='grouphash',\n"
        "        index=models.Index(fields=['state', 'hash', 'id'], "
        "name='sentry_grou_state_42c91b_idx'),\n"
        "    )"
    )
    data = json.loads(json.dumps(report.as_dict()))
    assert data["served"] is False
    assert data["residual_filters"] == ["state", "hash"]
    assert data["recommendation"]["fields"] == ["state", "hash", "id"]
