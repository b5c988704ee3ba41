"""Queries per page and the shape of each page's plan."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from rangeqs._plans.bounded import BOUNDED_SORT_SETTINGS
from rangeqs.wrapper import RangeQuerySetWrapper
from tests.compiled_pages import COMPILED_PAGES, compiled_only, merge_page_statements
from tests.plans.helpers import (
    ROWS_BY_KEYS,
    explain_sql,
    make_rows,
    make_tags,
    row_statements,
)
from tests.testapp.models import ExactRow, PatternTag, PlanRow, PlanTag, TextParent

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from django.db.models import QuerySet

pytestmark = pytest.mark.django_db


def _pages(wrapper: RangeQuerySetWrapper[Any]) -> list[int]:
    """The number of queries each page took."""
    counts: list[int] = []
    before = 0
    for _ in wrapper.batches():
        counts.append(wrapper.queries - before)
        before = wrapper.queries
    return counts


def _without_the_list(captured: list[dict[str, str]]) -> list[str]:
    """The statements that fetch rows and carry no IN list."""
    return [
        sql
        for sql in row_statements(captured)
        if not any(form in sql for form in (" IN (", "ANY(", "JSON_TABLE"))
    ]


def test_partition_pages_run_on_into_the_next_values(vendor: str) -> None:
    make_rows({1: 5, 2: 5, 3: 5})
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=4)

    pages = _pages(wrapper)

    # Pages: 1 x4 | 1, 2 x3 | 2 x2, 3 x2 | 3 x3 (short: the end).
    if vendor == "postgresql":
        assert pages == [1, 1, 1, 1]
    else:
        # A walk of the current value, then the values after it.
        assert pages == [1, 2, 2, 2]


def test_partition_pages_inside_a_large_value_leave_the_list_out(vendor: str) -> None:
    make_rows({1: 32, 2: 32})
    queryset = PlanRow.objects.filter(group_id__in=[1, 2])
    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=4)

    with CaptureQueriesContext(connection) as captured:
        pages = _pages(wrapper)

    walks = _without_the_list(captured.captured_queries)
    # Eight pages of 4 rows in each value, then none. The page after a
    # value's last row is a walk of it that finds nothing, completed from
    # the values after it.
    assert pages == [1] * 8 + [2] + [1] * 7
    if vendor == "postgresql":
        # Four whole pages inside a value: the next ones walk it alone (the
        # sixth to ninth of each value).
        assert len(walks) == 8
    else:
        # Every page after the first walks the current value.
        assert len(walks) == 16


def test_partition_stops_walking_values_of_a_size_that_did_not_pay(
    vendor: str,
) -> None:
    make_rows({1: 20, 2: 20, 3: 20})
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=4)

    with CaptureQueriesContext(connection) as captured:
        pages = _pages(wrapper)

    walks = _without_the_list(captured.captured_queries)
    if vendor == "postgresql":
        # Value 1 is walked after four whole pages, and ends at once: one
        # statement more, for no page. Values 2 and 3, of the same five
        # pages, stay in the one-statement form.
        assert pages == [1] * 5 + [2] + [1] * 9
        assert len(walks) == 1
    else:
        # A walk of the current value, then the values after it, at the
        # end of each.
        assert pages == [1] * 5 + [2] + [1] * 4 + [2] + [1] * 4
        assert len(walks) == 15


def test_partition_leaves_a_long_list_out_of_pages_inside_one_value(
    vendor: str,
) -> None:
    make_rows({1: 5, 2: 5, 3: 5})
    listed = [1, 2, 3, *range(10_000, 11_500)]
    queryset = PlanRow.objects.filter(group_id__in=listed)
    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=4)

    with CaptureQueriesContext(connection) as captured:
        pages = _pages(wrapper)

    # The pages inside one value carry none of the 1,503 values.
    walks = _without_the_list(captured.captured_queries)
    if vendor == "mysql":
        # The values sorted once by MariaDB, then windows of 100 literal
        # values: the last page reads the 15 windows after group 3.
        assert pages == [2, 2, 2, 16]
    else:
        # A walk of the current value, then the values after it.
        assert pages == [1, 2, 2, 2]
    assert len(walks) == 3


def test_partition_serves_many_short_groups_in_one_query_per_page(vendor: str) -> None:
    make_rows(dict.fromkeys(range(1, 41), 1))
    queryset = PlanRow.objects.filter(group_id__in=range(1, 41))

    with CaptureQueriesContext(connection) as captured:
        rows = list(
            RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=20)
        )

    assert len(rows) == 40
    assert len(row_statements(captured.captured_queries)) == (
        3 if vendor == "postgresql" else 5
    )


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    "rows_per_value", [2, 30], ids=["one-query pages", "walked values"]
)
def test_partition_pages_on_postgresql_leave_the_finished_values_out_of_the_list(
    vendor: str, descending: bool, rows_per_value: int
) -> None:
    if vendor != "postgresql":
        pytest.skip("the list is cut for PostgreSQL's planner")
    # 30 rows a value fill enough pages that its last ones walk it alone and
    # are completed by a statement over the values after it.
    make_rows(dict.fromkeys(range(1, 17), rows_per_value))
    # Unsorted, with a value no row has: the cut is by position, not by rows.
    listed = [9, 3, 16, 1, 40, *range(2, 16)]
    queryset = PlanRow.objects.filter(group_id__in=listed)
    order = ("-group_id", "-id") if descending else ("group_id", "id")

    with CaptureQueriesContext(connection) as captured:
        rows = list(RangeQuerySetWrapper(queryset, order_by=order, step=2))

    assert [row.pk for row in rows] == list(
        queryset.order_by(*order).values_list("pk", flat=True)
    )
    statements = row_statements(captured.captured_queries)
    lengths = [
        len(match[1].split(","))
        for sql in statements
        if (match := re.search(r"ANY\('\{([^}]*)\}'", sql))
    ]
    walks = len(statements) - len(lengths)
    assert walks > 0 if rows_per_value == 30 else walks == 0
    # Halved each time fewer than half of the values are left: 17 values
    # before the first row, then 8, 4, 2 and 1 (16 and the unmatched 40
    # last when descending).
    assert lengths[0] == 17
    assert lengths[-1] <= 2
    assert lengths == sorted(lengths, reverse=True)
    assert len(set(lengths)) >= 4


def test_merge_pages_take_one_query_each() -> None:
    make_rows({1: 5, 2: 5, 3: 5})
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=4)

    assert wrapper.plan == "merge"
    # The branches, merged and their rows fetched in the same statement
    # (compiled pages; the fallback asks for the branches' keys first).
    assert _pages(wrapper) == [merge_page_statements(3)] * 4


def _page_plans(
    wrapper: RangeQuerySetWrapper[Any], *, settings: Sequence[str] = ()
) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        list(wrapper)
    if settings:
        # The settings a guarded page runs with, for this test's transaction.
        with connection.cursor() as cursor:
            for name in settings:
                cursor.execute(f"SET LOCAL {name} = off")
    return [explain_sql(sql) for sql in row_statements(captured.captured_queries)]


@pytest.mark.parametrize("unlisted_values", [0, 1500], ids=["short", "long"])
def test_partition_pages_never_sort(vendor: str, unlisted_values: int) -> None:
    # Unlisted groups around the listed ones, as in production, so that no
    # planner finds the primary key as cheap a way to the rows of a group.
    make_rows(dict.fromkeys(range(1, 6), 30) | dict.fromkeys(range(100, 160), 30))
    listed = [1, 2, 3, 4, 5, *range(1000, 1000 + unlisted_values)]
    queryset = PlanRow.objects.filter(group_id__in=listed)

    plans = _page_plans(
        RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=7)
    )

    # Only the plans that read the table: MariaDB sorts a long list's values
    # once, and answers "the values after the last one" without a table.
    plans = [
        plan
        for plan in plans
        if "testapp_planrow" in plan and "Impossible WHERE" not in plan
    ]
    assert plans
    for plan in plans:
        assert "plans_row_group_id" in plan
        assert '"Sort"' not in plan
        assert "TEMP B-TREE" not in plan
        assert "filesort" not in plan
    # The position bounds the index range, not only the IN value.
    bounded = {
        "postgresql": r'"Index Cond": "(\(\(group_id >= \d+\) AND \(group_id <= \d+\) '
        r'AND \(id > \d+\)\)|[^"]*ROW\(group_id, id\) > ROW)',
        "sqlite": r"plans_row_group_id \(group_id=\? AND id>\?\)",
        "mysql": r":range:testapp_planrow:plans_row_group_id:",
    }[vendor]
    assert any(re.search(bounded, plan) for plan in plans[1:])


@compiled_only
def test_merge_sorts_no_more_than_the_branches_return(vendor: str) -> None:
    make_rows(dict.fromkeys(range(1, 6), 30) | dict.fromkeys(range(100, 160), 30))
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3, 4, 5])

    keys_plan = _page_plans(
        RangeQuerySetWrapper(queryset, order_by="id", step=7),
        settings=BOUNDED_SORT_SETTINGS if vendor == "postgresql" else (),
    )[0]

    assert "plans_row_group_id" in keys_plan
    if vendor == "postgresql":
        # The keys the branches append, at most a step each, each once;
        # never the rows.
        sorts = [
            node
            for node in _plan_nodes(json.loads(keys_plan)[0]["Plan"])
            if "Sort" in node["Node Type"]
        ]
        assert len(sorts) == 1
        below = sorts[0]["Plans"]
        while [child["Node Type"] for child in below] in (["Aggregate"], ["Unique"]):
            below = below[0]["Plans"]
        assert [child["Node Type"] for child in below] == ["Append"]
    elif vendor == "sqlite":
        assert "TEMP B-TREE" not in keys_plan
    else:
        # MariaDB has no ordered merge: it sorts the branches' few keys.
        assert "<union" in keys_plan or "<derived" in keys_plan


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def _scans(page_plan: str) -> list[tuple[str, str, str]]:
    return [
        (node["Node Type"], node["Index Name"], node.get("Index Cond", ""))
        for node in _plan_nodes(json.loads(page_plan)[0]["Plan"])
        if "Index Name" in node
    ]


def _merge_page_scans(
    queryset: QuerySet[Any], *, serving: str = "plans_row_group_id"
) -> list[tuple[str, str, str]]:
    """The scans of a PostgreSQL merge walk's first page, and that its rows
    are looked up by key in the primary key, once, after the others."""
    plans = _page_plans(
        RangeQuerySetWrapper(queryset, step=7), settings=BOUNDED_SORT_SETTINGS
    )
    # A text list's classes of equal values are found first, in no table.
    page_plan = next(plan for plan in plans if _scans(plan))
    *scans, (kind, index, condition) = _scans(page_plan)
    assert (kind, index) == ("Index Scan", f"{queryset.model._meta.db_table}_pkey")
    assert ROWS_BY_KEYS.fullmatch(condition)
    # One scan of the serving index, run for each listed value (and one that
    # takes a whole page of each when their shares fall short).
    assert len(scans) in (1, 2)
    assert {index for _, index, _ in scans} == {serving}
    return scans


@compiled_only
def test_merge_page_on_postgresql_reads_keys_from_the_serving_index_then_rows_by_key(
    vendor: str,
) -> None:
    if vendor != "postgresql":
        pytest.skip("PostgreSQL's merge pages; elsewhere pk IN (...) always.")
    make_rows(dict.fromkeys(range(1, 6), 30) | dict.fromkeys(range(100, 160), 30))

    scans = _merge_page_scans(PlanRow.objects.filter(group_id__in=[1, 2, 3, 4, 5]))

    assert {kind for kind, _, _ in scans} == {"Index Only Scan"}
    assert all(
        re.fullmatch(
            r"\(\(group_id >= (\w+)\.v\) AND \(group_id <= \1\.v\)\)", condition
        )
        for _, _, condition in scans
    ), scans


@compiled_only
def test_merge_page_of_a_text_column_on_postgresql_reads_a_range_of_each_value(
    vendor: str,
) -> None:
    if vendor != "postgresql":
        pytest.skip("PostgreSQL's merge pages; elsewhere pk IN (...) always.")
    make_tags([f"t{n % 40}" for n in range(1200)])

    scans = _merge_page_scans(
        PlanTag.objects.filter(tag__in=["t1", "t2", "t3"]), serving="plans_tag_tag_id"
    )

    assert {kind for kind, _, _ in scans} == {"Index Only Scan"}
    # The range under the column's collation: the listed value's own.
    assert all(
        re.fullmatch(
            r"\(\(\(?tag\)?(::text)? >= \(?(\w+)\.v\)?(::text)?\) "
            r"AND \(\(?tag\)?(::text)? <= \(?\2\.v\)?(::text)?\)\)",
            condition,
        )
        for _, _, condition in scans
    ), scans


def test_merge_pages_of_a_text_column_its_index_orders_by_pattern_read_no_range() -> (
    None
):
    # varchar_pattern_ops serves tag = v ORDER BY id, never a range of tag
    # under its collation: a page of that form would sort each value's rows.
    PatternTag.objects.bulk_create(PatternTag(tag=f"t{n % 40}") for n in range(1200))
    queryset = PatternTag.objects.filter(tag__in=["t1", "t2", "t3"])
    wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=7)

    with CaptureQueriesContext(connection) as captured:
        rows = [row.pk for row in wrapper]

    assert wrapper.plan == "merge"
    assert rows == list(queryset.order_by("id").values_list("pk", flat=True))
    assert not any("rangeqs_shares" in q["sql"] for q in captured.captured_queries)


@compiled_only
def test_merge_page_on_postgresql_checks_a_filter_the_index_lacks_on_each_keys_row(
    vendor: str,
) -> None:
    if vendor != "postgresql":
        pytest.skip("PostgreSQL's merge pages; elsewhere pk IN (...) always.")
    # project_id is not in (group_id, id): the keys come from the index in
    # its order, each entry's row checked for the filter, never from the
    # primary key's order.
    make_rows(dict.fromkeys(range(1, 6), 30) | dict.fromkeys(range(100, 160), 30))
    queryset = PlanRow.objects.filter(project_id=1, group_id__in=[1, 2, 3, 4, 5])

    scans = _merge_page_scans(queryset)

    assert {kind for kind, _, _ in scans} == {"Index Scan"}


def test_merge_pages_see_the_rows_written_during_the_walk() -> None:
    PlanRow.objects.bulk_create(
        [PlanRow(id=10 * n, project_id=1, group_id=1) for n in (1, 2, 3)]
        + [PlanRow(id=10 * n + 1, project_id=1, group_id=2) for n in range(1, 13)]
    )
    queryset = PlanRow.objects.filter(group_id__in=[1, 2])
    pages = RangeQuerySetWrapper(queryset, order_by="id", step=4).batches()
    first = [row.pk for row in next(pages)]
    # Among the rows after the position and after all of them: a page must
    # find what is there when it runs, whatever the pages before it read.
    PlanRow.objects.bulk_create(
        [
            PlanRow(id=25, project_id=1, group_id=1),
            PlanRow(id=35, project_id=1, group_id=2),
            PlanRow(id=500, project_id=1, group_id=1),
        ]
    )
    PlanRow.objects.filter(id=31).delete()

    rest = [row.pk for page in pages for row in page]

    assert first == [10, 11, 20, 21]
    assert rest == [25, 30, 35, 41, *range(51, 122, 10), 500]


def _grouped_by_rows(name: str) -> QuerySet[Any]:
    """Querysets grouped by their rows, each row with a number made of other
    rows: of itself, of the rows that share its parent (the aggregate's only
    joins), or of itself where a filter keeps the rows of some number."""
    make_rows(dict.fromkeys(range(1, 6), 30) | dict.fromkeys(range(100, 110), 30))
    parents = [TextParent.objects.create(code=code) for code in ("a", "b")]
    ExactRow.objects.bulk_create(
        ExactRow(small=n % 7, parent=parents[n % 3 % 2]) for n in range(120)
    )
    if name == "siblings":
        return ExactRow.objects.filter(small__in=[1, 2, 3]).annotate(
            number=Count("parent__rows")
        )
    rows = PlanRow.objects.filter(group_id__in=[1, 2, 3, 4, 5])
    if name == "having":
        return rows.annotate(number=Count("id")).filter(number__gt=0)
    return rows.annotate(number=Count("id"))


@pytest.mark.parametrize("name", ["itself", "siblings", "having"])
def test_merge_pages_of_a_queryset_grouped_by_its_rows_yield_djangos_rows(
    name: str,
) -> None:
    queryset = _grouped_by_rows(name)
    wrapper = RangeQuerySetWrapper(queryset, order_by="id", step=7, plan="merge")

    with CaptureQueriesContext(connection) as captured:
        rows = [(row.pk, row.number) for row in wrapper]

    assert rows == [(row.pk, row.number) for row in queryset.order_by("id")]
    assert len(rows) > 7 * 4
    if connection.vendor != "postgresql" or not COMPILED_PAGES:
        return
    shares = [
        q["sql"] for q in captured.captured_queries if "rangeqs_shares" in q["sql"]
    ]
    if name == "having":
        # A filter on the aggregate: no rows stand for the groups, the keys
        # are not read first.
        assert not shares
        return
    # A value's keys come from its rows ungrouped, without the aggregate's
    # joins; the page's rows are grouped.
    assert shares
    for sql in shares:
        keys = sql[sql.index("CROSS JOIN LATERAL") : sql.index("AS rangeqs_next")]
        assert "GROUP BY" not in keys
        assert "JOIN" not in keys.removeprefix("CROSS JOIN LATERAL")
        assert "GROUP BY" in sql[sql.rindex("rangeqs_page") :]
