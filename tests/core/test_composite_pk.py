"""Composite primary keys (Django 5.2+): ``"pk"`` is every field of the key,
and an ordering over those fields is unique (issue 9, defect 12)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from tests.testapp.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def memberships() -> None:
    for team, member in [(2, 1), (1, 3), (1, 1), (3, 2), (2, 2), (1, 2)]:
        Membership.objects.create(team=team, member=member, role=f"r{member % 2}")


def pks(rows: Any) -> list[tuple[int, int]]:
    return [row.pk for row in rows]


def django_order(*order_by: str) -> list[tuple[int, int]]:
    return pks(Membership.objects.order_by(*order_by))


@pytest.mark.parametrize("step", [1, 2, 100])
def test_pk_orders_by_every_field_of_the_key(step: int) -> None:
    wrapper = RangeQuerySetWrapper(Membership.objects.all(), step=step)
    assert wrapper.order_by == ("team", "member")
    assert pks(wrapper) == django_order("team", "member")


@pytest.mark.parametrize("step", [-1, -4])
def test_a_negative_step_walks_the_key_backwards(step: int) -> None:
    wrapper = RangeQuerySetWrapper(Membership.objects.all(), step=step)
    assert pks(wrapper) == django_order("-team", "-member")


@pytest.mark.parametrize(
    "order_by",
    [("team", "member"), ("member", "team"), ("role", "pk"), ("-role", "-pk")],
)
def test_orderings_that_hold_the_whole_key_are_unique(
    order_by: tuple[str, ...],
) -> None:
    wrapper = RangeQuerySetWrapper(Membership.objects.all(), step=2, order_by=order_by)
    expanded = [
        name
        for item in order_by
        for name in (
            [f"{item[:-2]}team", f"{item[:-2]}member"]
            if item.endswith("pk")
            else [item]
        )
    ]
    assert pks(wrapper) == django_order(*expanded)


def test_part_of_the_key_is_not_unique() -> None:
    with pytest.raises(InvalidQuerySetError, match="not unique"):
        RangeQuerySetWrapper(Membership.objects.all(), order_by=("role", "team"))


def test_the_tie_breaker_is_the_whole_key() -> None:
    wrapper = RangeQuerySetWrapper(
        Membership.objects.all(),
        step=2,
        order_by=("role", "member"),
        override_unique_safety_check=True,
    )
    assert wrapper.order_by == ("role", "member", "team")
    assert pks(wrapper) == django_order("role", "member", "team")


def test_a_cursor_resumes_inside_the_key() -> None:
    first = RangeQuerySetWrapper(Membership.objects.all(), step=2)
    head = pks(itertools.islice(first, 3))
    rest = pks(RangeQuerySetWrapper(Membership.objects.all(), after=first.cursor))
    assert head + rest == django_order("team", "member")


def test_min_id_is_refused_for_a_composite_pk() -> None:
    with pytest.raises(InvalidQuerySetError, match=r"^min_id is not supported"):
        RangeQuerySetWrapper(Membership.objects.all(), min_id=(1, 1))
