from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection

from rangeqs.advisor._indexes import model_indexes
from tests.testapp.models import AdvisedEvent, IndexedThing

if TYPE_CHECKING:
    from django.db.models import Model

pytestmark = pytest.mark.django_db


def _catalog_index_names(table: str) -> set[str]:
    """The index names the database itself lists for ``table``."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s", [table]
            )
            return {row[0] for row in cursor.fetchall()}
        if connection.vendor == "mysql":
            cursor.execute(f"SHOW INDEX FROM {table}")
            return {row[2] for row in cursor.fetchall()}
        cursor.execute(f"PRAGMA index_list({table})")
        # The rowid is the integer primary key's index: SQLite lists no name.
        return {row[1] for row in cursor.fetchall()} | {"PRIMARY KEY"}


def _by_source(model: type[Model]) -> dict[str, tuple[tuple[str, bool], ...]]:
    return {
        index.source.split(",")[0]: tuple(
            (column.attname, column.descending) for column in index.columns
        )
        for index in model_indexes(model, connection)
    }


@pytest.mark.parametrize("model", [IndexedThing, AdvisedEvent])
def test_every_index_name_is_one_the_database_has(model: type[Model]) -> None:
    names = {index.name for index in model_indexes(model, connection)}
    assert names <= _catalog_index_names(model._meta.db_table)


def test_reads_every_index_source(vendor: str) -> None:
    # InnoDB appends the primary key to every index, SQLite the rowid.
    pk = (("id", False),) if vendor in {"mysql", "sqlite"} else ()
    sources = _by_source(IndexedThing)
    assert sources["primary key"] == (("id", False),)
    assert sources["owner foreign key"] == (("owner_id", False), *pk)
    assert sources["serial unique=True"] == (("serial", False), *pk)
    assert sources["bucket db_index=True"] == (("bucket", False), *pk)
    assert sources["unique_together"] == (("a", False), ("b", False), *pk)
    assert sources["UniqueConstraint adv_thing_b_c_uniq"] == (
        ("b", False),
        ("c", False),
        *pk,
    )


def test_per_column_direction_is_kept() -> None:
    (index,) = [
        i
        for i in model_indexes(IndexedThing, connection)
        if i.name == "adv_thing_a_desc_c"
    ]
    assert [(c.attname, c.descending) for c in index.columns[:2]] == [
        ("a", True),
        ("c", False),
    ]


def test_partial_and_expression_indexes_follow_what_the_database_builds(
    vendor: str,
) -> None:
    indexes = {i.name: i for i in model_indexes(IndexedThing, connection)}
    events = {i.name: i for i in model_indexes(AdvisedEvent, connection)}
    if vendor == "mysql":
        # No partial unique constraints and no expression indexes on MariaDB;
        # a partial Meta.indexes entry is built as a full index.
        assert "adv_thing_c_when_a1" not in indexes
        assert "adv_thing_lower_name" not in indexes
        assert events["adv_event_live_kind"].condition is None
    else:
        assert indexes["adv_thing_c_when_a1"].condition is not None
        assert indexes["adv_thing_c_when_a1"].unique
        assert indexes["adv_thing_lower_name"].expression
        assert events["adv_event_live_kind"].condition is not None


def test_operator_classes_count_on_postgresql_only(vendor: str) -> None:
    indexes = {i.name: i for i in model_indexes(IndexedThing, connection)}
    opclass = indexes["adv_thing_name_pattern"].columns[0].opclass
    assert opclass == ("varchar_pattern_ops" if vendor == "postgresql" else None)


def test_reading_indexes_runs_no_query(django_assert_num_queries: object) -> None:
    model_indexes(IndexedThing, connection)  # warm Django's feature caches
    with django_assert_num_queries(0):  # type: ignore[operator]
        model_indexes(IndexedThing, connection)
