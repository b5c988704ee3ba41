"""The served rule as data: declared indexes and verdicts, with no database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from rangeqs._declared_indexes import IndexFacts, declared_indexes
from rangeqs._index_rules import judge
from rangeqs._keys import resolve_keys
from rangeqs._where import where_conditions
from tests.testapp.models import IndexedThing, PlanRow

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from rangeqs._index_rules import Verdict

# No django_db mark: pytest-django refuses any query, so these prove the
# rules pure (the facts a walk reads from the connection are given here).
MARIADB_10_6 = IndexFacts(
    vendor="mysql",
    partial_indexes=False,
    expression_indexes=False,
    column_ordering=False,
)
POSTGRESQL = IndexFacts(
    vendor="postgresql",
    partial_indexes=True,
    expression_indexes=True,
    column_ordering=True,
)


def _verdict(queryset: QuerySet[PlanRow], order_by: str, facts: IndexFacts) -> Verdict:
    model = queryset.model
    keys, _ = resolve_keys(model, order_by, reverse=False, add_tie_breaker=True)
    indexes = declared_indexes(model, facts)
    return judge(model, where_conditions(queryset), keys, indexes, vendor=facts.vendor)


def test_an_in_list_before_the_keys_is_found_as_the_column_that_breaks_the_order() -> (
    None
):
    verdict = _verdict(PlanRow.objects.filter(group_id__in=[1, 2]), "id", POSTGRESQL)

    assert not verdict.served
    assert verdict.needs_sort
    assert verdict.best is not None
    assert verdict.best.index.name == "plans_row_group_id"
    assert verdict.best.finding == "column_before_keys"
    assert verdict.best.column is not None
    assert verdict.best.column.attname == "group_id"
    assert verdict.best.breaker is not None
    assert verdict.best.breaker.kind == "in"


def test_an_equality_before_the_keys_serves_them() -> None:
    verdict = _verdict(PlanRow.objects.filter(group_id=1), "id", POSTGRESQL)

    assert verdict.served
    assert verdict.best is not None
    assert verdict.best.finding == "serves"
    assert verdict.best.fixed == ("group_id",)


def test_the_warning_key_holds_no_value_filtered_on() -> None:
    short = _verdict(PlanRow.objects.filter(group_id__in=[1, 2]), "id", POSTGRESQL)
    long = _verdict(PlanRow.objects.filter(group_id__in=range(500)), "id", POSTGRESQL)

    assert short.warning_key(PlanRow, []) == long.warning_key(PlanRow, [])
    assert "500" not in repr(long.warning_key(PlanRow, []))


def test_mariadb_appends_the_primary_key_to_every_secondary_index() -> None:
    indexes = {i.source: i for i in declared_indexes(IndexedThing, MARIADB_10_6)}

    owner = indexes["owner foreign key, with the primary key InnoDB appends"]
    assert [column.attname for column in owner.columns] == ["owner_id", "id"]
    assert owner.pk_appended
    assert owner.naming == "foreign_key"
    assert indexes["primary key"].name == "PRIMARY"


@pytest.mark.parametrize(
    ("facts", "descending"), [(POSTGRESQL, True), (MARIADB_10_6, False)]
)
def test_a_descending_index_column_is_descending_only_where_the_database_builds_it(
    facts: IndexFacts, descending: bool
) -> None:
    indexes = {index.name: index for index in declared_indexes(IndexedThing, facts)}

    assert indexes["adv_thing_a_desc_c"].columns[0].descending is descending


def test_indexes_the_schema_editor_names_are_left_unnamed_for_the_advisor() -> None:
    indexes = declared_indexes(IndexedThing, POSTGRESQL)

    unnamed = {index.source: index.naming for index in indexes if not index.name}
    assert unnamed == {
        "owner foreign key": "index",
        "bucket db_index=True": "index",
        "unique_together": "unique_together",
    }
