"""The analysis of a queryset's shape on public API only (rangeqs._django.query).

On a Django release whose query internals changed (simulated by the hook
``rangeqs._django.query.self_check_fails()``) the filters cannot be read and
the shape is read from public API: walks stay exactly Django's own rows,
what cannot be shown to be one row per row of the model is refused, and only
the plain plan pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.test.utils import CaptureQueriesContext

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from rangeqs._django import query
from rangeqs.advisor import advise
from rangeqs.jobs import split
from tests.plans.helpers import make_rows
from tests.testapp.models import Entry, Owner, PlanRow

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.db.models import QuerySet

pytestmark = pytest.mark.django_db


@pytest.fixture
def fallback() -> Iterator[None]:
    with query.self_check_fails():
        yield


@pytest.fixture
def entries() -> None:
    owners = [Owner.objects.create(name=f"o{index}") for index in range(3)]
    Entry.objects.bulk_create(
        Entry(
            a=None if index % 4 == 0 else index % 7,
            b=index % 3,
            c=None if index % 3 == 0 else index % 5,
            owner=owners[index % 3],
        )
        for index in range(29)
    )


FILTERS: dict[str, Callable[[], QuerySet[Entry, Entry]]] = {
    "all": Entry.objects.all,
    "exact": lambda: Entry.objects.filter(b=1),
    "in": lambda: Entry.objects.filter(b__in=[0, 2]),
    "range": lambda: Entry.objects.filter(a__gte=2, a__lt=6),
    "or": lambda: Entry.objects.filter(Q(a=1) | Q(c__isnull=True)),
    "not-null": lambda: Entry.objects.filter(a__isnull=False).exclude(c=2),
}

ORDERS: dict[str, tuple[str, ...]] = {
    "pk": ("pk",),
    "desc-pk": ("-pk",),
    "nullable": ("a", "pk"),
    "desc-nullable": ("-a", "-pk"),
    "compound": ("b", "-c", "pk"),
}


def _flipped(order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name[1:] if name.startswith("-") else f"-{name}" for name in order)


@pytest.mark.usefixtures("entries", "fallback")
@pytest.mark.parametrize("filters", list(FILTERS))
@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("step", [1, 2, 1000, -2])
def test_a_plain_walk_yields_djangos_own_rows(
    filters: str, order: str, step: int
) -> None:
    queryset = FILTERS[filters]()
    keys = ORDERS[order]
    expected_order = keys if step > 0 else _flipped(keys)
    expected = list(queryset.order_by(*expected_order).values_list("pk", flat=True))

    wrapper = RangeQuerySetWrapper(queryset, order_by=keys, step=step)
    walked = [row.pk for row in wrapper]

    assert walked == expected
    assert set(wrapper.plans) == {"plain"}


@pytest.mark.usefixtures("fallback")
def test_construction_runs_no_query() -> None:
    with CaptureQueriesContext(connection) as captured:
        RangeQuerySetWrapper(Entry.objects.filter(b__in=[1, 2]), order_by=("a", "pk"))
    assert captured.captured_queries == []


REFUSED: dict[str, Callable[[], QuerySet[Any, Any]]] = {
    # Accepted with Django's internals read, refused without them.
    "single-valued-join": lambda: Entry.objects.filter(owner__name="o1"),
    "select-related": lambda: Entry.objects.select_related("owner"),
    "exclude-multi-valued": lambda: Owner.objects.exclude(entry__b=1),
    "grouped-per-row": lambda: Owner.objects.annotate(n=Count("entry")),
    "slice": lambda: Entry.objects.all()[:5],
    "ordered-like-meta": lambda: Entry.objects.order_by("b"),
    # Refused either way.
    "multi-valued-join": lambda: Owner.objects.filter(entry__b=1),
    "distinct": Entry.objects.distinct,
    "group-by": lambda: Entry.objects.values("b").annotate(n=Count("id")),
    "union": lambda: Entry.objects.filter(b=1).union(Entry.objects.filter(b=2)),
    "window": lambda: Entry.objects.annotate(row=Window(RowNumber())),
    "window-filter": lambda: Entry.objects.alias(row=Window(RowNumber())).filter(
        row__lte=2
    ),
    "offset": lambda: Entry.objects.all()[3:],
    "ordered": lambda: Entry.objects.order_by("a"),
    "extra-ordered": lambda: Entry.objects.extra(order_by=["a"]),
    "reversed": Entry.objects.reverse,
    "reversed-unordered": Owner.objects.reverse,
    "extra-table": lambda: Entry.objects.extra(tables=["testapp_owner"]),
}


@pytest.mark.usefixtures("fallback")
@pytest.mark.parametrize("shape", list(REFUSED))
def test_a_shape_public_api_cannot_clear_is_refused(shape: str) -> None:
    with pytest.raises(InvalidQuerySetError):
        RangeQuerySetWrapper(REFUSED[shape](), override_unique_safety_check=True)


@pytest.mark.usefixtures("entries", "fallback")
@pytest.mark.parametrize(
    "queryset",
    [
        lambda: Entry.objects.reverse().reverse(),
        lambda: Entry.objects.order_by("-b"),
        lambda: Entry.objects.filter(pk__in=[]),
        lambda: Entry.objects.filter(pk__in=Owner.objects.values("pk")),
    ],
    ids=["reversed-twice", "meta-ordering", "matches-nothing", "subquery"],
)
def test_shapes_public_api_clears_are_walked_as_django_evaluates_them(
    queryset: Callable[[], QuerySet[Entry, Entry]],
) -> None:
    expected = list(queryset().order_by("pk").values_list("pk", flat=True))
    assert [row.pk for row in RangeQuerySetWrapper(queryset(), step=2)] == expected


@pytest.mark.usefixtures("fallback")
def test_auto_takes_the_plain_plan_and_walks_djangos_rows() -> None:
    make_rows({1: 5, 2: 3, 3: 6, 4: 2})
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    expected = list(queryset.order_by("group_id", "id").values_list("pk", flat=True))

    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=4)

    assert wrapper.plan == "plain"
    assert [row.pk for row in wrapper] == expected


@pytest.mark.usefixtures("fallback")
@pytest.mark.parametrize(
    ("plan", "order_by"),
    [("partition", ("group_id", "id")), ("merge", ("id",))],
)
def test_an_explicit_in_list_plan_is_refused_at_construction(
    plan: Any, order_by: tuple[str, ...]
) -> None:
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])
    with pytest.raises(InvalidQuerySetError, match=f"plan='{plan}'"):
        RangeQuerySetWrapper(queryset, order_by=order_by, plan=plan)


@pytest.mark.usefixtures("fallback")
def test_the_advisor_gives_no_verdict_on_filters_it_cannot_read() -> None:
    report = advise(
        PlanRow.objects.filter(group_id__in=[1, 2]), order_by=("group_id", "id")
    )
    assert (report.served, report.index_name, report.recommendation) == (
        False,
        None,
        None,
    )
    assert len(report.reasons) == 1
    assert str(report)


@pytest.mark.usefixtures("entries", "fallback")
def test_split_ranges_walk_djangos_rows_once() -> None:
    queryset = Entry.objects.filter(Q(b__in=[0, 2]) | Q(c=1))
    keys = ("a", "pk")
    expected = list(queryset.order_by(*keys).values_list("pk", flat=True))

    ranges = split(queryset, order_by=keys, parts=3)
    walked = [
        row.pk
        for part in ranges
        for row in RangeQuerySetWrapper(
            queryset, order_by=keys, step=2, after=part.after, until=part.until
        )
    ]

    assert walked == expected


def test_the_analysis_self_check_holds_on_this_django(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(query, "_checked", {})
    with CaptureQueriesContext(connection) as captured:
        assert query.self_check()
        with query.self_check_fails():
            assert not query.self_check()
    # It builds querysets, it never queries.
    assert captured.captured_queries == []


def test_outside_the_tested_range_a_passing_self_check_reads_the_internals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_rows({1: 5, 2: 3, 3: 6})
    monkeypatch.setattr(query, "TESTED_DJANGO", frozenset())
    monkeypatch.setattr(query, "_checked", {})
    queryset = PlanRow.objects.filter(group_id__in=[1, 2, 3])

    wrapper = RangeQuerySetWrapper(queryset, order_by=("group_id", "id"), step=4)

    assert wrapper.plan == "partition"
    assert query._checked == {"analysis": True}
    with pytest.raises(InvalidQuerySetError):
        RangeQuerySetWrapper(Owner.objects.filter(entry__b=F("entry__a")))


def test_a_queryset_grouped_by_its_rows_ungroups_without_its_aggregates_joins() -> None:
    owners = [Owner.objects.create(name=name) for name in ("x", "y", "x", "x")]
    Entry.objects.bulk_create(Entry(owner=owners[n % 3]) for n in range(7))
    grouped = Owner.objects.annotate(entries=Count("entry")).filter(name="x")

    rows = query.ungrouped(grouped)

    assert rows is not None
    # Each row of the filter once, with or without entries.
    assert sorted(rows.values_list("pk", flat=True)) == [
        owners[0].pk,
        owners[2].pk,
        owners[3].pk,
    ]
    sql = str(rows.query)
    assert "JOIN" not in sql
    assert "GROUP BY" not in sql
    # The grouped queryset keeps its aggregate.
    assert {owner.pk: owner.entries for owner in grouped} == {
        owners[0].pk: 3,
        owners[2].pk: 2,
        owners[3].pk: 0,
    }


@pytest.mark.parametrize(
    "grouped",
    [
        # A filter on the aggregate (HAVING).
        lambda: Owner.objects.annotate(entries=Count("entry")).filter(entries__gt=1),
        # A filter's join, which the aggregate shares, can match a row twice.
        lambda: Owner.objects.filter(entry__a=1).annotate(entries=Count("entry")),
        # Groups of several rows.
        lambda: Entry.objects.values("b").annotate(n=Count("id")),
    ],
    ids=["having", "shared join", "merged rows"],
)
def test_no_rows_stand_for_groups_a_filter_or_a_join_makes(
    grouped: Callable[[], QuerySet[Any]],
) -> None:
    assert query.ungrouped(grouped()) is None


def test_on_the_fallback_no_queryset_is_ungrouped(fallback: None) -> None:
    assert query.ungrouped(Owner.objects.annotate(entries=Count("entry"))) is None
