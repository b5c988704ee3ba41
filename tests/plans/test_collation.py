"""Text IN columns: the plans order and trim values as the database does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rangeqs.wrapper import RangeQuerySetWrapper
from tests.plans.helpers import make_tags
from tests.testapp.models import PlanTag

if TYPE_CHECKING:
    from rangeqs._plans import PlanName

pytestmark = pytest.mark.django_db

# Case pairs, accents and a letter Python sorts before lower case: under a
# case-insensitive or linguistic collation the database's order and equality
# differ from Python's.
WORDS = ["a", "A", "b", "B", "é", "E", "e", "Z", "zz"]
words = st.sampled_from(WORDS)


@pytest.mark.parametrize("plan", ["partition", "plain"])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tags=st.lists(words, min_size=1, max_size=25),
    listed=st.lists(words, min_size=1, max_size=6),
    step=st.integers(1, 6),
)
def test_tag_order_is_the_databases(
    plan: PlanName, *, tags: list[str], listed: list[str], step: int
) -> None:
    PlanTag.objects.all().delete()
    make_tags(tags)
    queryset = PlanTag.objects.filter(tag__in=listed).values_list("tag", "id")
    expected = list(queryset.order_by("tag", "id"))

    wrapper = RangeQuerySetWrapper(
        queryset, order_by=("tag", "id"), step=step, plan=plan
    )

    assert list(wrapper) == expected


@pytest.mark.parametrize("plan", ["merge", "plain"])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tags=st.lists(words, min_size=1, max_size=25),
    listed=st.lists(words, min_size=1, max_size=6),
    step=st.integers(1, 6),
)
def test_id_order_over_text_values_yields_each_row_once(
    plan: PlanName, *, tags: list[str], listed: list[str], step: int
) -> None:
    PlanTag.objects.all().delete()
    make_tags(tags)
    queryset = PlanTag.objects.filter(tag__in=listed).values_list("id", flat=True)
    expected = list(queryset.order_by("id"))

    wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=step, plan=plan)

    assert list(wrapper) == expected


@pytest.mark.skipif(
    django_settings.RANGEQS_TEST_DATABASE == "postgresql18",
    reason="The embedded PostgreSQL 18 is built without ICU; its C.UTF-8 order "
    "is Python's. PostgreSQL 15 runs this with und-x-icu.",
)
def test_partition_follows_a_collation_whose_order_is_not_pythons() -> None:
    make_tags(["b", "B", "a", "A", "c"])
    queryset = PlanTag.objects.filter(tag__in=["c", "a", "B"]).values_list(
        "tag", flat=True
    )

    wrapper = RangeQuerySetWrapper(queryset, order_by=("tag", "id"), step=1)
    tags = list(wrapper)

    assert wrapper.plan == "partition"
    assert tags == list(queryset.order_by("tag", "id"))
    # Python's order puts every capital first; the database's does not.
    assert tags != sorted(tags)


def test_partition_over_a_long_text_list_follows_the_database_order() -> None:
    make_tags(["b", "B", "a", "A", "c", "x7", "X7"])
    listed = ["c", "a", "B", *(f"x{n}" for n in range(1100))]
    queryset = PlanTag.objects.filter(tag__in=listed).values_list("tag", "id")

    wrapper = RangeQuerySetWrapper(queryset, order_by=("tag", "id"), step=1)

    assert wrapper.plan == "partition"
    assert list(wrapper) == list(queryset.order_by("tag", "id"))
