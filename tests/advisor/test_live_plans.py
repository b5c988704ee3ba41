"""The static verdict agrees with each database's own plan.

The table is filled once per module (20,000 rows) and analysed, so that the
planner prefers an index wherever one serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.models import Q

from rangeqs import InvalidQuerySetError
from rangeqs.advisor import QueryPlan, advise
from tests.testapp.models import AdvisedEvent

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.db.models import QuerySet

ROWS = 20_000


@pytest.fixture(scope="module")
def events(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        AdvisedEvent.objects.bulk_create(
            (
                AdvisedEvent(
                    project=i % 10,
                    group=None if i % 40 == 39 else i % 40,
                    kind=i % 7,
                    # A permutation of 0..ROWS-1: unique, unrelated to id.
                    created=(i * 7919) % ROWS,
                    deleted=i % 5 == 0,
                    code=f"c{i}",
                    batch=i % 50,
                )
                for i in range(ROWS)
            ),
            batch_size=2000,
        )
        table = AdvisedEvent._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "mysql":
                cursor.execute(f"ANALYZE TABLE {table}")
                cursor.fetchall()
            else:
                cursor.execute(f"ANALYZE {table}")
        try:
            yield
        finally:
            AdvisedEvent.objects.all().delete()


@dataclass(frozen=True)
class Shape:
    name: str
    queryset: Callable[[], QuerySet[AdvisedEvent]]
    order_by: tuple[str, ...]
    served: bool
    #: Vendors where the verdict differs. MariaDB and SQLite append the pk to
    #: every index; MariaDB builds partial indexes as full ones; PostgreSQL
    #: does not take IS NULL as fixing a column for ORDER BY.
    except_on: tuple[str, ...] = ()


def _events() -> QuerySet[AdvisedEvent]:
    return AdvisedEvent.objects.all()


SHAPES = [
    Shape("equality_then_pk", lambda: _events().filter(group=5), ("id",), True),
    Shape("pk_only_no_filter", _events, ("id",), True),
    Shape("equality_backward", lambda: _events().filter(group=5), ("-id",), True),
    Shape(
        "in_list_before_keyset",
        lambda: _events().filter(group__in=[1, 2, 3, 4, 5]),
        ("id",),
        False,
    ),
    Shape(
        "in_list_leads_the_keyset",
        lambda: _events().filter(group__in=[1, 2, 3, 4, 5]),
        ("group", "id"),
        True,
    ),
    Shape(
        "tenant_filter_is_residual",
        lambda: _events().filter(project=3, group=13),
        ("id",),
        True,
    ),
    Shape(
        "tenant_filter_with_in_list_leading",
        lambda: _events().filter(project=3, group__in=[3, 13, 23]),
        ("group", "id"),
        True,
    ),
    Shape(
        "desc_column_forward",
        lambda: _events().filter(project=3),
        ("-created", "id"),
        True,
    ),
    Shape(
        "desc_column_backward",
        lambda: _events().filter(project=3),
        ("created", "-id"),
        True,
    ),
    Shape(
        "mixed_directions",
        lambda: _events().filter(project=3),
        ("created", "id"),
        False,
    ),
    Shape(
        "in_list_on_prefix",
        lambda: _events().filter(project__in=[1, 2]),
        ("-created", "id"),
        False,
    ),
    Shape(
        "range_before_keyset",
        lambda: _events().filter(group__gte=5, group__lte=8),
        ("id",),
        False,
    ),
    Shape(
        "or_of_equalities",
        lambda: _events().filter(Q(group=5) | Q(group=6)),
        ("id",),
        False,
    ),
    Shape(
        "is_null_prefix",
        lambda: _events().filter(group__isnull=True),
        ("id",),
        True,
        except_on=("postgresql",),
    ),
    Shape(
        "single_column_index_with_appended_pk",
        lambda: _events().filter(batch=7),
        ("id",),
        False,
        except_on=("mysql", "sqlite"),
    ),
    Shape(
        "partial_index_implied",
        lambda: _events().filter(kind=2, deleted=False),
        ("id",),
        True,
    ),
    Shape(
        "partial_index_not_implied",
        lambda: _events().filter(kind=2),
        ("id",),
        False,
        except_on=("mysql",),
    ),
]


@pytest.mark.django_db
@pytest.mark.usefixtures("events")
@pytest.mark.parametrize("shape", SHAPES, ids=[shape.name for shape in SHAPES])
def test_static_verdict_agrees_with_the_live_plan(shape: Shape, vendor: str) -> None:
    expected = not shape.served if vendor in shape.except_on else shape.served
    report = advise(shape.queryset(), order_by=shape.order_by)
    # Pages small against the matches, as on a production-sized table.
    plan = report.verify(step=10)
    assert isinstance(plan, QueryPlan)
    assert report.served is expected, str(report)
    assert plan.served is expected, f"{plan}\n{plan.raw}\n{plan.sql}"
    if report.served:
        assert report.index_name in plan.index_names, f"{plan}\n{report}"


@pytest.mark.django_db
@pytest.mark.usefixtures("events")
def test_statistics_put_the_most_selective_equality_column_first() -> None:
    # kind: 7 values, batch: 50, project: 10. Filter order: kind, batch, project.
    queryset = _events().filter(kind=2).filter(batch=7).filter(project=3)
    order = ("created", "id")
    static = advise(queryset, order_by=order).recommendation
    assert static is not None
    assert static.fields == ("kind", "batch", "project", "created", "id")
    measured = advise(queryset, order_by=order, statistics=True).recommendation
    assert measured is not None
    assert measured.fields == ("batch", "project", "kind", "created", "id")


@pytest.mark.django_db
@pytest.mark.usefixtures("events")
def test_verify_with_analyze_runs_the_page(vendor: str) -> None:
    report = advise(_events().filter(group=5), order_by="id")
    if vendor == "sqlite":
        with pytest.raises(
            InvalidQuerySetError,
            match=r"^SQLite cannot run EXPLAIN ANALYZE: call verify\(\) without "
            r"analyze=True\.$",
        ):
            report.verify(analyze=True)
        return
    plan = report.verify(analyze=True, step=10)
    assert plan.served
    if vendor == "postgresql":
        buffered = report.verify(analyze=True, buffers=True, step=10)
        assert "Shared Hit Blocks" in buffered.raw[0]["Plan"]
        assert buffered.raw[0]["Plan"]["Actual Rows"] == 10
    else:
        with pytest.raises(
            InvalidQuerySetError, match=r"^buffers=True needs PostgreSQL"
        ):
            report.verify(buffers=True)
