"""Compiled pages on PostgreSQL write the statement's constants in once.

The IN list and the filter values are the same from page to page (the list
changes only when it is cut by half); the position changes on every page.
With client-side binding the driver would quote them again for every page,
so the prepared statement carries them in its text and binds only the
position. The server receives the same text either way.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection

from rangeqs import RangeQuerySetWrapper
from rangeqs._plans.bounded import SETTINGS_COMMENT
from tests.compiled_pages import COMPILED_PAGES
from tests.testapp.models import PlanRow, PlanTag

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not COMPILED_PAGES,
        reason="client-side binding of compiled pages is PostgreSQL's",
    ),
]


class _Sent:
    """Every statement and its parameters, as the walk hands them on."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: Any,
    ) -> Any:
        if not sql.startswith(SETTINGS_COMMENT):
            self.statements.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)


def test_pages_bind_only_the_position_and_keep_the_list_in_their_text() -> None:
    PlanRow.objects.bulk_create(
        PlanRow(project_id=7, group_id=group) for group in range(40) for _ in range(5)
    )
    listed = list(range(0, 40, 2))
    queryset = PlanRow.objects.filter(project_id=7, group_id__in=listed)
    sent = _Sent()

    with connection.execute_wrapper(sent):
        rows = [
            row.pk
            for row in RangeQuerySetWrapper(
                queryset, order_by=("group_id", "id"), step=7
            )
        ]

    assert rows == list(
        queryset.order_by("group_id", "id").values_list("pk", flat=True)
    )
    pages = sent.statements[1:]  # the first page has no position yet
    assert pages
    for sql, params in pages:
        # group_id >= g and the row comparison (g, id) > (g, z): the position.
        assert len(params) == 3, (sql, params)
        assert not [param for param in params if isinstance(param, list)]
        # The listed values from the page's own on (integers: cut by halves).
        assert re.search(r"ANY\('\{\d+(,\d+)*\}'", sql), sql


def test_percent_signs_in_written_constants_match_as_django_matches_them() -> None:
    tags = ["50%", "5%s", "%%", "a%b", "plain", "%"]
    PlanTag.objects.bulk_create(PlanTag(tag=tag) for tag in tags * 3)
    queryset = PlanTag.objects.filter(tag__in=["50%", "%%", "%", "5%s"]).filter(
        tag__contains="%"
    )

    rows = [
        row.pk for row in RangeQuerySetWrapper(queryset, order_by=("tag", "id"), step=2)
    ]

    assert rows == list(queryset.order_by("tag", "id").values_list("pk", flat=True))
    assert len(rows) == 12
