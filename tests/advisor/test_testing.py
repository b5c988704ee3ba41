from __future__ import annotations

import pytest

from rangeqs.testing import assert_index_serves
from tests.testapp.models import AdvisedEvent

pytestmark = pytest.mark.django_db


def test_passes_and_returns_the_report_when_served() -> None:
    report = assert_index_serves(
        AdvisedEvent.objects.filter(group__in=[1, 2]), order_by=("group", "id")
    )
    assert report.index_name == "adv_event_group_id"


def test_fails_with_the_whole_report_when_not_served() -> None:
    with pytest.raises(AssertionError) as failure:
        assert_index_serves(
            AdvisedEvent.objects.filter(group__in=[1, 2]), order_by="id"
        )
    message = str(failure.value)
    assert message.startswith(
        "No index serves this keyset walk.\n"
        "rangeqs index advice for testapp.AdvisedEvent, order_by=('id',)\n"
        "NOT SERVED: every page sorts the remaining matching rows.\n"
        "Index: adv_event_group_id\n"
    )
    assert 'plan="merge"' in message


def test_runs_no_query(django_assert_num_queries: object) -> None:
    assert_index_serves(AdvisedEvent.objects.filter(group=1), order_by="id")
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert_index_serves(AdvisedEvent.objects.filter(group=2), order_by="id")


def test_using_applies_that_databases_rules() -> None:
    assert_index_serves(
        AdvisedEvent.objects.filter(group=1), order_by="id", using="default"
    )
