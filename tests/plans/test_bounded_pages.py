"""Pages keep to the serving index when the planner's estimates are wrong.

The data is the multi-tenant case of issue 10: every group belongs to one
project, the walk filters ``project_id = 0 AND group_id IN (the groups of
project 0)``, and the table has an index on ``project_id`` beside the
serving ``(group_id, id)``. Each database is given the skew that misleads
its planner, measured on the code before the guard (commit 179a2a1):

- PostgreSQL: 20 projects of equal size; the planner multiplies the two
  selectivities and runs every page as a bitmap scan (``BitmapAnd`` of both
  indexes) and a top-N sort of every remaining match.
- SQLite: one big tenant among 999 small ones; its statistics make
  ``project_id = 0`` look more selective than the IN list, so the pages that
  carry the list read the project index and sort in a temporary B-tree.
- MariaDB: a big tenant among 20 projects; near the end it intersects both
  indexes (``index_merge``) and filesorts, elsewhere it filters rows with a
  rowid filter built from every entry of the tenant.
"""

from __future__ import annotations

import json
import re
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from rangeqs import RangeQuerySetWrapper
from rangeqs._plans.bounded import BOUNDED_SORT_SETTINGS, settings_in_front
from rangeqs._plans.merge import key_share
from tests.compiled_pages import COMPILED_PAGES
from tests.plans.helpers import ROWS_BY_KEYS, make_runs
from tests.testapp.models import (
    BareTag,
    BoundedRow,
    MixedSeenRow,
    PlanRow,
    PlanTag,
    SeenRow,
)
from tests.testapp.models.bounded import make_tenant

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.db.models import QuerySet

pytestmark = pytest.mark.django_db(transaction=True)

STEP = 100
TABLE = BoundedRow._meta.db_table
SERVING_INDEX = "bounded_row_group_id"


@pytest.fixture
def tenant() -> QuerySet[BoundedRow]:
    return make_tenant()


def _page_plans(
    queries: list[dict[str, str]], *, table: str = TABLE
) -> list[tuple[str, Any]]:
    """Each page statement's plan, under the settings it ran with.

    The statements are replayed in order inside one transaction that is rolled
    back: planner settings are made again, the pages are EXPLAINed.
    """
    plans: list[tuple[str, Any]] = []
    restored: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if connection.vendor == "postgresql":
                in_front = settings_in_front(sql)
                if in_front is not None:
                    # Settings and page in one message: its own transaction.
                    settings, sql = in_front
                    cursor.execute(settings)
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
                    raw = cursor.fetchone()[0]
                    plans.append(
                        (sql, raw if isinstance(raw, list) else json.loads(raw))
                    )
                    for name in re.findall(r"SET LOCAL (\w+) = off", settings):
                        cursor.execute(f"SET LOCAL {name} TO DEFAULT")
                elif "set_config" in sql:
                    restored = re.findall(r"set_config\('(\w+)'", sql)
                    cursor.execute(sql)
                elif sql in {"COMMIT", "ROLLBACK"}:
                    # A page's own transaction ended: its settings with it.
                    for name in restored:
                        cursor.execute(f"SET LOCAL {name} TO DEFAULT")
                elif table in sql:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
                    raw = cursor.fetchone()[0]
                    plans.append(
                        (sql, raw if isinstance(raw, list) else json.loads(raw))
                    )
            elif table in sql:
                if connection.vendor == "sqlite":
                    cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                    plans.append((sql, [row[3] for row in cursor.fetchall()]))
                else:
                    cursor.execute(f"EXPLAIN FORMAT=JSON {sql}")
                    plans.append((sql, json.loads(cursor.fetchone()[0])))
        transaction.set_rollback(True)
    return plans


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _indexes_read(nodes: list[dict[str, Any]]) -> set[str]:
    """The indexes a PostgreSQL plan reads, but for looking keys it holds
    already up in a primary key (a merge page's rows, once its keys are
    read)."""
    return {
        node["Index Name"]
        for node in nodes
        if "Index Name" in node and not _looks_up_keys(node)
    }


def _looks_up_keys(node: dict[str, Any]) -> bool:
    """``node`` looks rows up in the primary key by the keys read first."""
    return (
        node["Node Type"] == "Index Scan"
        and node["Index Name"].endswith("_pkey")
        and ROWS_BY_KEYS.fullmatch(node.get("Index Cond", "")) is not None
    )


def _unbounded_sorts(
    top: dict[str, Any], *, branches: int, step: int
) -> list[dict[str, Any]]:
    """The sorts of a PostgreSQL plan, but those of the sets a merge page
    bounds itself: its keys, in the statement that computes them once (an
    InitPlan), where every read of the table is cut by a LIMIT and at most
    ``step`` keys of each of ``branches`` are sorted; and the rows it looks up
    by those keys in the primary key, at most a page of them."""

    def sorts(node: dict[str, Any], in_keys: bool) -> Iterator[dict[str, Any]]:
        in_keys = in_keys or node.get("Parent Relationship") == "InitPlan"
        children = node.get("Plans", [])
        if "Sort" in node["Node Type"] and not (
            (
                in_keys
                and children[0]["Actual Rows"] <= branches * step
                and _reads_cut_by_limits(children[0])
            )
            or _rows_by_key(children[0])
        ):
            yield node
        for child in children:
            yield from sorts(child, in_keys)

    return list(sorts(top, False))


def _reads_cut_by_limits(node: dict[str, Any]) -> bool:
    """Every scan of a table under ``node`` is under a LIMIT below it."""
    if node["Node Type"] == "Limit":
        return True
    if "Relation Name" in node:
        return False
    return all(_reads_cut_by_limits(child) for child in node.get("Plans", ()))


def _rows_by_key(node: dict[str, Any]) -> bool:
    """``node`` looks a page of rows up in the primary key by their keys, or
    groups (and sorts for grouping) those rows, at most a page of them."""
    if node["Actual Rows"] > STEP:
        return False
    if node["Node Type"] in {"Aggregate", "Sort"}:
        return len(node["Plans"]) == 1 and _rows_by_key(node["Plans"][0])
    return _looks_up_keys(node)


def _json_items(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield key, child
            yield from _json_items(child)
    elif isinstance(value, list):
        for child in value:
            yield from _json_items(child)


def _assert_bounded(sql: str, plan: Any, *, branches: int) -> None:
    vendor = connection.vendor
    if vendor == "postgresql":
        top = plan[0]["Plan"]
        nodes = list(_nodes(top))
        assert not _unbounded_sorts(top, branches=branches, step=STEP), sql
        assert not [n for n in nodes if n["Node Type"].startswith("Bitmap")], sql
        assert _indexes_read(nodes) == {SERVING_INDEX}, sql
        buffers = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
        if branches == 1:
            # O(step): the heap pages of one page's rows and a descent into
            # the index.
            assert buffers <= 1.5 * STEP + 4, (buffers, sql)
        else:
            # A merge page: the heap page of each key of every value's share
            # (the tenant filter is checked on the row), a descent into the
            # index per value, then the page's rows by key, a descent into
            # the primary key and a heap page each.
            share = key_share(STEP, branches)
            assert buffers <= branches * (share + 4) + 4 * STEP, (buffers, sql)
    elif vendor == "sqlite":
        steps = " | ".join(plan)
        assert "TEMP B-TREE" not in steps, (steps, sql)
        assert f"SEARCH {TABLE} USING INDEX {SERVING_INDEX} " in steps, (steps, sql)
    else:
        items = list(_json_items(plan))
        tables = [value for key, value in items if key == "table"]
        assert not [key for key, _ in items if key in {"filesort", "index_merge"}], sql
        assert [table.get("key") for table in tables] == [SERVING_INDEX], sql
        assert not [table for table in tables if "rowid_filter" in table], sql


@pytest.mark.parametrize("order_by", [("group_id", "id"), ("id",)])
def test_pages_read_the_serving_index_at_every_position_of_a_correlated_walk(
    tenant: QuerySet[BoundedRow], order_by: tuple[str, ...]
) -> None:
    wrapper = RangeQuerySetWrapper(tenant, order_by=order_by, step=STEP)
    if order_by == ("id",) and connection.vendor != "postgresql":
        pytest.skip("merge pages on SQLite and MariaDB union the branches unhinted")
    if not COMPILED_PAGES and (
        order_by == ("id",) or connection.vendor != "postgresql"
    ):
        pytest.skip(
            "fallback pages: hints are added after Django logs the statement, "
            "and a merge page sorts its candidate rows"
        )

    with CaptureQueriesContext(connection) as captured:
        rows = [row.pk for row in wrapper]

    assert wrapper.plan == ("partition" if order_by[0] == "group_id" else "merge")
    assert rows == list(
        tenant.order_by(*order_by).values_list("pk", flat=True)
    )  # the same rows, in the same order
    plans = _page_plans(captured.captured_queries)
    # Start, middle and end of the walk: every page statement.
    assert len(plans) >= 3
    branches = (
        1
        if wrapper.plan == "partition"
        else tenant.values("group_id").distinct().count()
    )
    for sql, plan in plans:
        _assert_bounded(sql, plan, branches=branches)


def _settings() -> dict[str, str]:
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "
            + ", ".join(f"current_setting('{name}')" for name in BOUNDED_SORT_SETTINGS)
        )
        values = cursor.fetchone()
    return dict(zip(BOUNDED_SORT_SETTINGS, values, strict=True))


def _server_transaction_open() -> bool:
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        return False
    import psycopg

    status = connection.connection.info.transaction_status
    return bool(status != psycopg.pq.TransactionStatus.IDLE)


def _walk(queryset: QuerySet[Any], **kwargs: Any) -> list[int]:
    return [
        row.pk
        for row in RangeQuerySetWrapper(
            queryset, order_by=("group_id", "id"), step=STEP, **kwargs
        )
    ]


def test_a_walk_in_autocommit_leaves_no_setting_and_no_transaction(
    tenant: QuerySet[BoundedRow],
) -> None:
    before = _settings()

    _walk(tenant)

    assert _settings() == before
    assert connection.get_autocommit()
    assert not connection.in_atomic_block
    assert not _server_transaction_open()


def test_a_walk_inside_atomic_restores_the_callers_settings(
    tenant: QuerySet[BoundedRow], vendor: str
) -> None:
    with transaction.atomic():
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                # The caller's own choice for this transaction survives the walk.
                cursor.execute("SET LOCAL enable_incremental_sort = off")
                cursor.execute("SELECT txid_current()")
                txid = cursor.fetchone()[0]
        before = _settings()

        rows = _walk(tenant.select_for_update())

        assert _settings() == before
        assert connection.in_atomic_block
        assert len(rows) == tenant.count()
        if vendor == "postgresql":
            assert before["enable_incremental_sort"] == "off"
            with connection.cursor() as cursor:
                cursor.execute("SELECT txid_current_if_assigned()")
                assert cursor.fetchone()[0] == txid
    assert _settings() == {} or _settings()["enable_incremental_sort"] == "on"


def _failing_midway(tenant: QuerySet[BoundedRow]) -> QuerySet[Any]:
    # Division by zero in group 40's rows: an error from the database in the
    # middle of the walk.
    return tenant.annotate(failing=1 / (F("group_id") - 40))


def test_a_walk_that_fails_mid_page_leaves_no_setting_and_no_transaction(
    tenant: QuerySet[BoundedRow], vendor: str
) -> None:
    if vendor != "postgresql":
        pytest.skip("SQLite and MariaDB divide by zero into NULL")
    before = _settings()

    with pytest.raises(DatabaseError):
        _walk(_failing_midway(tenant))

    assert _settings() == before
    assert not connection.in_atomic_block
    assert not _server_transaction_open()


def test_a_walk_that_fails_mid_page_inside_atomic_leaves_no_setting(
    tenant: QuerySet[BoundedRow], vendor: str
) -> None:
    if vendor != "postgresql":
        pytest.skip("SQLite and MariaDB divide by zero into NULL")
    with transaction.atomic():
        before = _settings()
        with pytest.raises(DatabaseError), transaction.atomic():
            _walk(_failing_midway(tenant))

        assert _settings() == before
        assert connection.in_atomic_block


def _groups_alone(tenant: QuerySet[BoundedRow]) -> QuerySet[BoundedRow]:
    """The tenant's groups without the tenant filter: merge pages by id read
    their keys from the serving index alone, with ``jit`` off too."""
    groups = tenant.values_list("group_id", flat=True).distinct()
    return BoundedRow.objects.filter(group_id__in=list(groups))


@pytest.mark.parametrize("atomic", [False, True], ids=["autocommit", "atomic"])
def test_a_merge_walk_by_keys_restores_every_setting_it_turned_off(
    tenant: QuerySet[BoundedRow], vendor: str, atomic: bool
) -> None:
    queryset = _groups_alone(tenant)
    with transaction.atomic() if atomic else nullcontext():
        if vendor == "postgresql" and atomic:
            with connection.cursor() as cursor:
                # The caller's own choice for this transaction survives the walk.
                cursor.execute("SET LOCAL enable_sort = off")
        before = _settings()
        wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=STEP)

        with CaptureQueriesContext(connection) as captured:
            rows = [row.pk for row in wrapper]

        assert _settings() == before
        assert rows == list(queryset.order_by("id").values_list("pk", flat=True))
        assert connection.in_atomic_block == atomic
    if vendor == "postgresql" and COMPILED_PAGES:
        assert any("jit" in query["sql"] for query in captured.captured_queries)
        assert before["enable_sort"] == ("off" if atomic else "on")
        assert before["jit"] == "on"
    assert not _server_transaction_open()


def test_a_merge_walk_by_keys_that_fails_mid_page_leaves_no_setting(
    tenant: QuerySet[BoundedRow], vendor: str
) -> None:
    if vendor != "postgresql":
        pytest.skip("SQLite and MariaDB divide by zero into NULL")
    queryset = _failing_midway(_groups_alone(tenant))
    before = _settings()

    with pytest.raises(DatabaseError):
        list(RangeQuerySetWrapper(queryset, order_by="id", step=STEP))
    with transaction.atomic():
        with pytest.raises(DatabaseError), transaction.atomic():
            list(RangeQuerySetWrapper(queryset, order_by="id", step=STEP))
        assert _settings() == before

    assert _settings() == before
    assert not _server_transaction_open()


def test_pages_without_a_second_way_in_run_no_extra_statement() -> None:
    # No filter besides the IN list: nothing for the planner to prefer, so
    # the pages run as they always did, one statement each.
    PlanRow.objects.bulk_create(
        PlanRow(project_id=1, group_id=group)
        for group in range(1, 6)
        for _ in range(30)
    )
    wrapper = RangeQuerySetWrapper(
        PlanRow.objects.filter(group_id__in=[1, 2, 3, 4, 5]),
        order_by=("group_id", "id"),
        step=7,
    )

    with CaptureQueriesContext(connection) as captured:
        list(wrapper)

    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) == wrapper.queries
    assert not [sql for sql in statements if re.search("INDEXED BY|FORCE INDEX", sql)]


def test_select_for_update_outside_a_transaction_is_still_refused(
    tenant: QuerySet[BoundedRow],
) -> None:
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no SELECT ... FOR UPDATE")
    # A guarded page runs in a transaction of its own in autocommit; that
    # must not make row locks that end with the page look allowed.
    with pytest.raises(TransactionManagementError):
        _walk(tenant.select_for_update())

    assert not connection.in_atomic_block
    assert not _server_transaction_open()


@pytest.mark.parametrize(
    "order_by", [("group_id", "id"), ("-group_id", "-id"), ("id",)]
)
def test_guarded_pages_of_a_long_list_return_the_rows_django_returns(
    tenant: QuerySet[BoundedRow], order_by: tuple[str, ...]
) -> None:
    # 1,500 more values: the list goes as one parameter (and in windows on
    # MariaDB), and the hint must sit on the table, not on the list.
    listed = [*tenant.values_list("group_id", flat=True).distinct(), *range(5000, 6500)]
    queryset = BoundedRow.objects.filter(project_id=0, group_id__in=listed)
    if order_by == ("id",):
        queryset = tenant  # merge takes at most 100 values

    rows = [
        row.pk for row in RangeQuerySetWrapper(queryset, order_by=order_by, step=37)
    ]

    assert rows == list(queryset.order_by(*order_by).values_list("pk", flat=True))


def test_a_guarded_page_outside_a_transaction_is_one_statement(
    tenant: QuerySet[BoundedRow],
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the planner settings are PostgreSQL's")
    wrapper = RangeQuerySetWrapper(tenant, order_by=("group_id", "id"), step=STEP)

    with CaptureQueriesContext(connection) as captured:
        rows = [row.pk for row in wrapper]

    statements = [query["sql"] for query in captured.captured_queries]
    # One message a page: the settings in front of the page statement, no
    # BEGIN, no statement of their own, no COMMIT.
    assert len(statements) == wrapper.queries
    assert wrapper.queries <= len(rows) // STEP + 1
    assert all(settings_in_front(sql) is not None for sql in statements)
    assert not _server_transaction_open()


@pytest.fixture
def server_side_binding() -> Iterator[None]:
    """The connection reopened with psycopg 3 binding parameters on the
    server, where one message cannot hold several statements."""
    if connection.vendor != "postgresql":
        pytest.skip("server-side binding is psycopg 3's")
    options = connection.settings_dict.setdefault("OPTIONS", {})
    connection.close()
    options["server_side_binding"] = True
    try:
        yield
    finally:
        connection.close()
        del options["server_side_binding"]


@pytest.mark.usefixtures("server_side_binding")
def test_guarded_pages_with_server_side_binding_run_in_a_transaction_each(
    tenant: QuerySet[BoundedRow],
) -> None:
    before = _settings()

    with CaptureQueriesContext(connection) as captured:
        rows = _walk(tenant)

    assert rows == list(tenant.order_by("group_id", "id").values_list("pk", flat=True))
    assert type(connection.connection.cursor()).__name__ == "ServerBindingCursor"
    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if settings_in_front(sql) is not None]
    assert [sql for sql in statements if "set_config" in sql]
    assert _settings() == before
    assert not _server_transaction_open()


@pytest.fixture
def underestimated_group() -> Iterator[QuerySet[PlanRow]]:
    """Group 1 holds 20,100 rows where the statistics count about 100.

    200 groups of 100 rows are analyzed, then group 1 gets 20,000 more and
    the statistics are left as they were: the planner expects too few rows
    of group 1 to be worth reading in index order, scans the serving index
    as a bitmap and sorts every row of the value (measured on PostgreSQL 15
    and 18 before pages without a second index were guarded).
    """
    if connection.vendor != "postgresql":
        pytest.skip("bitmap scans of the serving index are PostgreSQL's")
    table = connection.ops.quote_name(PlanRow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        cursor.execute(
            f"INSERT INTO {table} (project_id, group_id, hash) "
            "SELECT 1, 1 + i % 200, '' FROM generate_series(1, 20000) AS i"
        )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(
            f"INSERT INTO {table} (project_id, group_id, hash) "
            "SELECT 1, 1, '' FROM generate_series(1, 20000)"
        )
    try:
        yield PlanRow.objects.filter(group_id__in=[1, 2])
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


@pytest.mark.parametrize("order_by", [("group_id", "id"), ("id",)])
def test_a_value_the_statistics_undercount_is_still_read_in_index_order(
    underestimated_group: QuerySet[PlanRow], order_by: tuple[str, ...]
) -> None:
    if not COMPILED_PAGES and order_by == ("id",):
        pytest.skip("the fallback's merge page sorts its candidate rows")
    step = 1000
    wrapper = RangeQuerySetWrapper(underestimated_group, order_by=order_by, step=step)

    with CaptureQueriesContext(connection) as captured:
        rows = [row.pk for row in wrapper]

    assert rows == list(
        underestimated_group.order_by(*order_by).values_list("pk", flat=True)
    )
    table = PlanRow._meta.db_table
    plans = _page_plans(captured.captured_queries, table=table)
    assert len(plans) >= 3
    for sql, plan in plans:
        nodes = list(_nodes(plan[0]["Plan"]))
        kinds = [node["Node Type"] for node in nodes]
        assert not [kind for kind in kinds if "Bitmap" in kind], (kinds, sql)
        assert not _unbounded_sorts(plan[0]["Plan"], branches=2, step=step), (
            kinds,
            sql,
        )
        assert _indexes_read(nodes) == {"plans_row_group_id"}, sql


LateModel = PlanRow | PlanTag | SeenRow | MixedSeenRow


class LateRows(NamedTuple):
    """How a model's table is filled with a value that comes late."""

    #: The IN column.
    column: str
    #: The listed values, the late one first.
    listed: list[Any]
    #: The other rows' values, SQL in ``i``, the row's number (``%%`` for ``%``).
    others: str
    #: The other columns' values, SQL in ``i``.
    extra: dict[str, str]
    #: The walks' orders, each with the index that serves it.
    orders: dict[tuple[str, ...], str]


LATE_ROWS: dict[type[LateModel], LateRows] = {
    PlanRow: LateRows(
        "group_id",
        [1, 3, 5],
        "2 + i %% 200",
        {"project_id": "1", "hash": "''"},
        {("id",): "plans_row_group_id"},
    ),
    PlanTag: LateRows(
        "tag",
        ["t1", "t3", "t5"],
        "'t' || (2 + i %% 200)",
        {},
        {("id",): "plans_tag_tag_id"},
    ),
    SeenRow: LateRows(
        "group_id",
        [1, 3, 5],
        "2 + i %% 200",
        # Growing with the id, as a creation date does: the index (seen,
        # id) gives the walk's order as the primary key gives id's.
        {"seen": "i / 3"},
        {("seen", "id"): "plans_seen_group", ("-seen", "-id"): "plans_seen_group"},
    ),
    MixedSeenRow: LateRows(
        "group_id",
        [1, 3, 5],
        "2 + i %% 200",
        # Keys of mixed directions, and a key that may be NULL: a quarter of
        # the rows have no hit.
        {"seen": "i / 3", "hit": "CASE WHEN i %% 4 = 0 THEN NULL ELSE i %% 3 END"},
        {
            ("seen", "-id"): "plans_mixed_group",
            ("seen", "-hit", "-id"): "plans_mixed_hit",
        },
    ),
}


def _late_rows(
    model: type[LateModel], when: str, delete: str | None = None
) -> Iterator[QuerySet[Any]]:
    """40,000 rows of ``model``, the late value's where ``when`` holds of
    ``i``, then ANALYZE, then the late value's rows that ``delete`` (SQL;
    ``%(late)s`` is the late value) names deleted; the walk over the listed
    values, autovacuum off meanwhile."""
    if connection.vendor != "postgresql":
        pytest.skip("the planner settings that pin a page are PostgreSQL's")
    rows = LATE_ROWS[model]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join([rows.column, *rows.extra])
    values = ", ".join(
        [f"CASE WHEN {when} THEN %(late)s ELSE {rows.others} END", *rows.extra.values()]
    )
    late = {"late": rows.listed[0]}
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {values} "
            "FROM generate_series(1, 40000) AS i",
            late,
        )
        cursor.execute(f"ANALYZE {table}")
        if delete is not None:
            cursor.execute(
                f"DELETE FROM {table} WHERE {rows.column} = %(late)s AND {delete}",
                late,
            )
    try:
        yield model._default_manager.filter(**{f"{rows.column}__in": rows.listed})
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


LATE_WALKS = [
    pytest.param((model, order_by), id=f"{model.__name__}-{','.join(order_by)}")
    for model, rows in LATE_ROWS.items()
    for order_by in rows.orders
]


@pytest.fixture(params=["overcounted", "clustered ahead"])
def found_later_than_expected(
    request: pytest.FixtureRequest, walk: tuple[type[Any], tuple[str, ...]]
) -> Iterator[QuerySet[Any]]:
    """The late value's rows lie far after where the planner expects the next
    ones.

    ``overcounted``: every other row of 40,000 is the late value's when the
    table is analyzed, then all but its last 20 rows are deleted (a deletion
    walk's table between two ``ANALYZE`` runs). ``clustered ahead``: the late
    value is half of the table, correctly counted, but its rows are the last
    20,000, as a group's rows are where ids grow with time. Either way the
    planner expects the late value to fill a page from the first entries of
    the primary key (of ``(seen, id)``) and walks it, filtering out every row
    before the late value's (measured on PostgreSQL 15 and 18 on the code
    before merge pages read their keys from the serving index alone).
    """
    model, _ = walk
    if request.param == "overcounted":
        column = LATE_ROWS[model].column
        table = connection.ops.quote_name(model._meta.db_table)
        yield from _late_rows(
            model,
            "i %% 2 = 0",
            delete=f"id < (SELECT id FROM {table} WHERE {column} = %(late)s "
            "ORDER BY id DESC LIMIT 1 OFFSET 19)",
        )
    else:
        yield from _late_rows(model, "i > 20000")


@pytest.mark.parametrize("grouped", [False, True], ids=["rows", "grouped"])
@pytest.mark.parametrize("walk", LATE_WALKS)
def test_merge_pages_keep_to_the_serving_index_when_a_value_comes_later_than_expected(
    found_later_than_expected: QuerySet[Any],
    walk: tuple[type[Any], tuple[str, ...]],
    grouped: bool,
) -> None:
    if not COMPILED_PAGES:
        pytest.skip("the fallback's merge page sorts its candidate rows")
    model, order_by = walk
    queryset = found_later_than_expected
    if grouped:
        # Grouped by its rows: the keys are read from the rows ungrouped.
        queryset = queryset.annotate(rows=Count("id"))
    serving = LATE_ROWS[model].orders[order_by]

    plans = _merge_walk_plans(queryset, order_by)

    assert len(plans) >= 3
    for sql, plan in plans:
        nodes = list(_nodes(plan[0]["Plan"]))
        # A walk of the primary key (of (seen, id)) that filters the rows of
        # other values reads every row before the late value's. (A window
        # filters the ends of the values' shares out of the shares.)
        assert not [
            n
            for n in nodes
            if "Relation Name" in n and n.get("Rows Removed by Filter", 0) > STEP
        ], ([(n["Node Type"], n.get("Index Name")) for n in nodes], sql)
        assert not _unbounded_sorts(plan[0]["Plan"], branches=3, step=STEP), sql
        assert _indexes_read(nodes) == {serving}, sql
        top = plan[0]["Plan"]
        # At most a step of keys per branch, each with its heap page (the
        # table is not vacuumed: no page is known all-visible, and the first
        # page meets the deleted rows' entries), then the page's rows, a
        # descent into the primary key and a heap page each.
        buffers = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
        assert buffers <= 10 * STEP, (buffers, sql)


@pytest.fixture(params=[PlanRow, PlanTag], ids=["integer", "text"])
def thinned_since_analyze(request: pytest.FixtureRequest) -> Iterator[QuerySet[Any]]:
    """The late value keeps every 20th of its 20,000 rows where the
    statistics count all of them.

    Every other row of 40,000 is the late value's when the table is
    analyzed; then 19 of each 20 of them are deleted. A page that walks the
    value alone (``group_id = 1 AND id > z``) is expected to find its rows at
    every other entry of the primary key and walks it, about 40 entries for
    each row of the value (measured on PostgreSQL 15 on the code before such
    pages became a range of the IN column).
    """
    yield from _late_rows(request.param, "i %% 2 = 0", delete="id %% 40 <> 0")


def test_partition_pages_that_walk_one_value_keep_to_the_serving_index(
    thinned_since_analyze: QuerySet[Any],
) -> None:
    queryset = thinned_since_analyze
    model = queryset.model
    late = LATE_ROWS[model]
    order_by = (late.column, "id")
    wrapper = RangeQuerySetWrapper(queryset, order_by=order_by, step=STEP)

    with CaptureQueriesContext(connection) as captured:
        rows = [row.pk for row in wrapper]

    assert wrapper.plan == "partition"
    assert rows == list(queryset.order_by(*order_by).values_list("pk", flat=True))
    plans = _page_plans(captured.captured_queries, table=model._meta.db_table)
    # The value's 500 rows: five pages, the last ones walked alone.
    assert len(plans) >= 5
    for sql, plan in plans:
        nodes = list(_nodes(plan[0]["Plan"]))
        assert not [n for n in nodes if n.get("Rows Removed by Filter", 0) > STEP], (
            [(n["Node Type"], n.get("Index Name")) for n in nodes],
            sql,
        )
        # The index that serves the merge walk by id serves (column, id).
        assert _indexes_read(nodes) == {late.orders[("id",)]}, sql


def _keys_read(nodes: list[dict[str, Any]]) -> int:
    """The entries a PostgreSQL plan returned from index-only scans."""
    return sum(
        node["Actual Rows"] * node["Actual Loops"]
        for node in nodes
        if node["Node Type"] == "Index Only Scan"
    )


#: A walk ordered by the primary key, and one by compound keys, with the
#: model whose index serves each.
KeyModel = PlanRow | SeenRow | MixedSeenRow

KEY_SHAPES: dict[str, tuple[type[KeyModel], tuple[str, ...], str]] = {
    "id": (PlanRow, ("id",), "plans_row_group_id"),
    "-id": (PlanRow, ("-id",), "plans_row_group_id"),
    "seen,id": (SeenRow, ("seen", "id"), "plans_seen_group"),
    "-seen,-id": (SeenRow, ("-seen", "-id"), "plans_seen_group"),
    "seen,-id": (MixedSeenRow, ("seen", "-id"), "plans_mixed_group"),
    "-seen,hit,id": (MixedSeenRow, ("-seen", "hit", "id"), "plans_mixed_hit"),
    "id by (-group_id, id)": (MixedSeenRow, ("id",), "plans_mixed_desc_group"),
    "-id by (-group_id, id)": (MixedSeenRow, ("-id",), "plans_mixed_desc_group"),
}


def _grouped_rows(model: type[KeyModel], runs: list[tuple[int, int]]) -> None:
    """Rows in runs of one group (:func:`make_runs`), then ANALYZE. SeenRow's
    and MixedSeenRow's ``seen`` grows by one every other row, so that ``id``
    breaks its ties; every third ``hit`` is NULL."""
    groups = list(enumerate(group for group, count in runs for _ in range(count)))
    if model is PlanRow:
        make_runs(runs)
    elif model is SeenRow:
        SeenRow.objects.bulk_create(
            SeenRow(group_id=group, seen=n // 2) for n, group in groups
        )
    else:
        MixedSeenRow.objects.bulk_create(
            MixedSeenRow(group_id=group, seen=n // 2, hit=n % 2 if n % 3 else None)
            for n, group in groups
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _merge_walk_plans(
    queryset: QuerySet[Any], order_by: tuple[str, ...]
) -> list[tuple[str, Any]]:
    wrapper = RangeQuerySetWrapper(queryset, order_by=order_by, step=STEP)
    with CaptureQueriesContext(connection) as captured:
        rows = [row.pk for row in wrapper]
    assert wrapper.plan == "merge"
    assert rows == list(queryset.order_by(*order_by).values_list("pk", flat=True))
    return _page_plans(captured.captured_queries, table=queryset.model._meta.db_table)


@pytest.mark.parametrize("shape", KEY_SHAPES)
def test_merge_pages_read_a_share_of_each_values_keys_when_the_values_interleave(
    vendor: str, shape: str
) -> None:
    if vendor != "postgresql" or not COMPILED_PAGES:
        pytest.skip("PostgreSQL's compiled merge pages read keys from the index")
    model, order_by, serving = KEY_SHAPES[shape]
    # 20 listed groups of 60 rows, one row of each in turn, among others,
    # and a listed group of 3 rows at either end, short of its share.
    _grouped_rows(
        model,
        [(41, 3), *[(group, 1) for _ in range(60) for group in range(1, 41)], (42, 3)],
    )
    queryset = model._default_manager.filter(group_id__in=[*range(1, 21), 41, 42])

    plans = _merge_walk_plans(queryset, order_by)

    # 1,206 rows: thirteen pages.
    assert len(plans) == 13
    share = key_share(STEP, 22)
    assert share < STEP
    for sql, plan in plans:
        nodes = list(_nodes(plan[0]["Plan"]))
        # Every group's share of the page and no more: a group's whole next
        # page of keys would be 20 x 60 at the start of the walk.
        assert _keys_read(nodes) <= 22 * share, sql
        assert _indexes_read(nodes) == {serving}, sql
        assert not _unbounded_sorts(plan[0]["Plan"], branches=22, step=share), sql


@pytest.mark.parametrize("shape", KEY_SHAPES)
def test_merge_pages_read_a_whole_page_of_each_value_when_one_value_comes_first(
    vendor: str, shape: str
) -> None:
    if vendor != "postgresql" or not COMPILED_PAGES:
        pytest.skip("PostgreSQL's compiled merge pages read keys from the index")
    model, order_by, serving = KEY_SHAPES[shape]
    # Group 1's 250 rows together, then the other groups' in turn, then
    # group 2's 250: at either end a group fills its share of the page
    # long before the others have theirs.
    _grouped_rows(
        model,
        [
            (1, 250),
            *[(group, 1) for _ in range(30) for group in range(3, 21)],
            (2, 250),
        ],
    )
    queryset = model._default_manager.filter(group_id__in=range(1, 21))

    plans = _merge_walk_plans(queryset, order_by)

    whole_pages = 0
    for sql, plan in plans:
        nodes = list(_nodes(plan[0]["Plan"]))
        scans = [n for n in nodes if n["Node Type"] == "Index Only Scan"]
        assert len(scans) == 2, sql
        # The first reads the shares; the second a whole page of each value.
        whole_pages += scans[1]["Actual Loops"] > 0
        assert _keys_read(nodes) <= 20 * (key_share(STEP, 20) + STEP), sql
        assert _indexes_read(nodes) == {serving}, sql
    assert whole_pages >= 2


@pytest.fixture
def tags_under_an_undeclared_collation() -> Iterator[None]:
    """BareTag's column compared case-insensitively by a collation set outside
    Django: the model declares none."""
    if settings.RANGEQS_TEST_DATABASE != "postgresql15":
        pytest.skip("a nondeterministic collation needs PostgreSQL with ICU")
    table = connection.ops.quote_name(BareTag._meta.db_table)
    alter = f"ALTER TABLE {table} ALTER COLUMN tag TYPE varchar(20) COLLATE "
    with connection.cursor() as cursor:
        cursor.execute(f'{alter} "rangeqs_case_insensitive"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'{alter} "default"')


@pytest.mark.usefixtures("tags_under_an_undeclared_collation")
@pytest.mark.parametrize("order_by", ["id", "-id"])
def test_merge_pages_yield_each_row_once_under_a_collation_django_does_not_know(
    order_by: str,
) -> None:
    # "a" and "A" are one value to the column, two to Python.
    BareTag.objects.bulk_create(
        BareTag(tag=tag) for tag in ["a", "A", "b", "B", "c"] * 30
    )
    queryset = BareTag.objects.filter(tag__in=["a", "A", "b"])

    rows = [row.pk for row in RangeQuerySetWrapper(queryset, order_by=order_by, step=7)]

    assert rows == list(queryset.order_by(order_by).values_list("pk", flat=True))
