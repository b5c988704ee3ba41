"""When the plan is chosen, and what it may not be: locks, advice, NULL phases."""

from __future__ import annotations

import logging
from typing import ClassVar

import pytest
from django.db import models, transaction

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper, _warnings
from rangeqs._plans.merge import MERGE_MAX_VALUES
from rangeqs.advisor import advise
from tests.plans.helpers import make_rows
from tests.testapp.models import AdvisedEvent, PlanRow

pytestmark = pytest.mark.django_db


def test_select_for_update_over_an_in_list_is_never_paged_by_a_union() -> None:
    rows = make_rows({1: 3, 2: 2, 3: 4, 4: 1})
    queryset = PlanRow.objects.select_for_update().filter(group_id__in=[1, 2, 3])

    with transaction.atomic():
        wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=2)
        yielded = [row.pk for row in wrapper]

    assert wrapper.plan != "merge"
    assert yielded == [row.pk for row in rows if row.group_id != 4]


def test_merge_refuses_select_for_update() -> None:
    queryset = PlanRow.objects.select_for_update().filter(group_id__in=[1, 2])

    with pytest.raises(InvalidQuerySetError, match=r"select_for_update\(\)"):
        RangeQuerySetWrapper(queryset, order_by="id", plan="merge")


def test_partition_locks_the_rows_of_an_in_list_in_key_order() -> None:
    rows = make_rows({1: 3, 2: 2, 3: 4})
    queryset = PlanRow.objects.select_for_update().filter(group_id__in=[3, 1])

    with transaction.atomic():
        wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=2)
        yielded = [(row.group_id, row.pk) for row in wrapper]

    assert wrapper.plan == "partition"
    assert yielded == sorted((r.group_id, r.pk) for r in rows if r.group_id != 2)


def test_an_unserved_shape_warns_once_whatever_the_length_of_its_in_list(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Too many values to merge, and the (group_id, id) index gives group_id
    # order first: no plan bounds the pages.
    make_rows({1: 2, 2: 2})
    lengths = [MERGE_MAX_VALUES + 1 + extra for extra in range(5)]

    with caplog.at_level(logging.WARNING, logger="rangeqs"):
        for length in lengths:
            queryset = PlanRow.objects.filter(group_id__in=range(1, length + 1))
            wrapper = RangeQuerySetWrapper(queryset, order_by="id")
            assert len(list(wrapper)) == 4
            assert wrapper.plan == "plain"

    assert len(caplog.records) == 1
    assert "group_id" in caplog.records[0].getMessage()
    assert len(_warnings._warned) == 1


def test_a_wrapper_that_is_never_walked_gives_no_advice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queryset = PlanRow.objects.filter(project_id__in=[7, 8, 9])

    with caplog.at_level(logging.WARNING, logger="rangeqs"):
        RangeQuerySetWrapper(queryset, order_by="id")

    assert caplog.records == []


def test_the_advice_is_given_when_the_walk_starts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queryset = PlanRow.objects.filter(project_id__in=[7, 8, 9])
    wrapper = RangeQuerySetWrapper(queryset, order_by="id")

    with caplog.at_level(logging.WARNING, logger="rangeqs"):
        list(wrapper)
        list(wrapper)

    assert len(caplog.records) == 1


class _ProxiedRow(PlanRow):
    class Meta:
        proxy = True
        app_label = "testapp"


class _LiveKinds(models.Manager["_LiveEvent"]):
    def get_queryset(self) -> models.QuerySet[_LiveEvent]:
        return super().get_queryset().filter(kind=3)


class _LiveEvent(AdvisedEvent):
    objects = _LiveKinds()
    everything: ClassVar[models.Manager[_LiveEvent]] = models.Manager()

    class Meta:
        proxy = True
        app_label = "testapp"


def test_a_proxy_model_is_paged_with_the_indexes_of_its_table() -> None:
    rows = make_rows({1: 3, 2: 2, 3: 1})
    queryset = _ProxiedRow.objects.filter(group_id__in=[1, 2])

    wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=2)

    assert wrapper.plan == "merge"
    assert [row.pk for row in wrapper] == [r.pk for r in rows if r.group_id != 3]


def test_a_filtered_default_manager_is_no_part_of_a_partial_index(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # adv_event_live_kind is (kind, id) where deleted=False: the default
    # manager's own kind=3 is no part of that condition.
    queryset = _LiveEvent.everything.filter(deleted=False, kind=5)

    with caplog.at_level(logging.WARNING, logger="rangeqs"):
        wrapper = RangeQuerySetWrapper(queryset, order_by="id")
        assert list(wrapper) == []

    assert advise(queryset, order_by="id").index_name == "adv_event_live_kind"
    assert advise(queryset, order_by="id").served
    assert caplog.records == []
