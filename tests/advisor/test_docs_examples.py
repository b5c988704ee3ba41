"""Run the code examples of the advisor's docs (docs/examples/advisor_*.py)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.migrations.state import ProjectState
from docs.examples import (
    advisor_check_index,
    advisor_grouphash,
    advisor_in_tests,
    advisor_migration,
)

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from rangeqs.examples.grouphash.models import GroupHash
from rangeqs.operations import AddIndexNonBlocking

pytestmark = pytest.mark.django_db


def test_in_tests_example_passes() -> None:
    advisor_in_tests.test_deletion_walk_is_served_by_an_index()


def test_check_index_example_builds_a_served_wrapper() -> None:
    wrapper = advisor_check_index.hashes_of(1, [11, 12])
    assert wrapper.order_by == ("group_id", "id")


def test_check_index_error_stops_an_unserved_walk() -> None:
    queryset = GroupHash.objects.filter(state=1)
    with pytest.raises(
        InvalidQuerySetError, match=r"^No index of grouphash\.GroupHash"
    ):
        RangeQuerySetWrapper(queryset, plan="plain", check_index="error")


def test_grouphash_verdicts_match_the_explanation(vendor: str) -> None:
    # SQLite and MariaDB end the project_id index with the pk: (project_id,
    # id) serves the tenant filter in id order, group_id checked on the rows.
    appends_pk = vendor in {"sqlite", "mysql"}
    before = advisor_grouphash.before_any_new_index()
    assert before.served is appends_pk
    assert before.residual_filters == (("group_id",) if appends_pk else ("project_id",))
    seed_option_1 = advisor_grouphash.option_1_as_the_seed_wrote_it()
    assert not seed_option_1.served
    assert seed_option_1.needs_sort
    assert seed_option_1.index_name == "sentry_grouphash_group_id_idx"
    assert seed_option_1.reasons[-1].endswith(
        "sentry_grouphash_group_id_idx serves both."
    )
    fixed = advisor_grouphash.option_1_ordered_by_group()
    assert fixed.served
    assert fixed.residual_filters == ("project_id",)
    seed_option_2 = advisor_grouphash.option_2_as_the_seed_wrote_it()
    assert seed_option_2.served is appends_pk
    if not appends_pk:
        assert seed_option_2.index_name == "sentry_grouphash_project_group_id_idx"


def test_command_lines_of_the_how_to() -> None:
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "rangeqs_advise",
            "grouphash.GroupHash",
            "--filter",
            "group_id__in=11,12,13",
            "--order-by",
            "id",
            stdout=out,
        )
    assert exit_.value.code == 1
    call_command(
        "rangeqs_advise",
        "grouphash.GroupHash",
        "--filter",
        "group_id__in=11,12,13",
        "--filter",
        "project_id=1",
        "--order-by",
        "group_id,id",
        stdout=out,
    )


def test_migration_example_adds_the_index_to_the_state() -> None:
    migration = advisor_migration.Migration("0002_example", "grouphash")
    assert migration.atomic is False
    (operation,) = migration.operations
    assert isinstance(operation, AddIndexNonBlocking)
    state = ProjectState.from_apps(__import__("django.apps").apps.apps)
    assert "sentry_grouphash_group_id_idx" in {
        index.name
        for index in state.models["grouphash", "grouphash"].options["indexes"]
    }
