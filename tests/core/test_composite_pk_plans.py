"""Composite primary keys under the IN-list plans and the advisor: the key's
own index serves an order by the key, and the merge plan, which unions one
branch per value on a single pk column, is never chosen for such a key."""

from __future__ import annotations

import pytest
from django.db import connection

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from rangeqs._declared_indexes import IndexFacts, declared_indexes
from rangeqs.advisor import advise
from tests.testapp.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def memberships() -> None:
    for team in (1, 2, 3):
        for member in (1, 2, 3, 4):
            Membership.objects.create(team=team, member=member, role=f"r{member % 2}")


def test_the_declared_pk_index_holds_every_field_of_the_key() -> None:
    pk_index = declared_indexes(Membership, IndexFacts.read(connection))[0]
    assert [column.attname for column in pk_index.columns] == ["team", "member"]
    assert pk_index.unique


def test_the_advisor_finds_the_composite_pk_serves_an_order_by_the_key() -> None:
    report = advise(Membership.objects.all(), order_by=("pk",))
    assert report.served
    assert report.recommendation is None


def test_the_advisor_finds_the_pk_serves_one_team_ordered_by_member() -> None:
    report = advise(Membership.objects.filter(team=2), order_by=("member",))
    assert report.served


def test_auto_never_picks_merge_for_a_composite_pk() -> None:
    queryset = Membership.objects.filter(team__in=[1, 3]).order_by()
    wrapper = RangeQuerySetWrapper(queryset, order_by=("member", "team"), step=2)
    rows = [(row.team, row.member) for row in wrapper]
    assert rows == list(
        Membership.objects.filter(team__in=[1, 3])
        .order_by("member", "team")
        .values_list("team", "member")
    )
    assert wrapper.plan != "merge"


def test_an_explicit_merge_plan_is_refused_for_a_composite_pk() -> None:
    with pytest.raises(InvalidQuerySetError, match=r"plan='merge'.*primary key"):
        RangeQuerySetWrapper(
            Membership.objects.filter(member__in=[1, 3]),
            order_by=("team", "member"),
            plan="merge",
        )


def _index_names_in_the_catalogue(table: str) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA index_list({connection.ops.quote_name(table)})")
            return {row[1] for row in cursor.fetchall()}
        return set(connection.introspection.get_constraints(cursor, table))


def test_the_advisor_names_the_composite_pk_index_as_the_database_does() -> None:
    report = advise(Membership.objects.filter(team=2), order_by=("member",))
    assert report.index_name in _index_names_in_the_catalogue(Membership._meta.db_table)
