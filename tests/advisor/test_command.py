from __future__ import annotations

import importlib
import json
import shutil
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.django_db

EVENT = "testapp.AdvisedEvent"


def _advise(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("rangeqs_advise", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_exits_0_when_served() -> None:
    status, out = _advise(
        EVENT, "--filter", "group__in=1,2,3", "--order-by", "group,id"
    )
    assert status == 0
    assert out.startswith(
        "rangeqs index advice for testapp.AdvisedEvent, order_by=('group', 'id')\n"
        "SERVED"
    )


def test_exits_1_when_not_served() -> None:
    status, out = _advise(EVENT, "--filter", "group__in=1,2,3", "--order-by", "id")
    assert status == 1
    assert "NOT SERVED" in out


def test_parses_values_with_the_fields_to_python() -> None:
    status, out = _advise(
        EVENT,
        "--filter",
        "deleted=false",
        "--filter",
        "kind=2",
        "--filter",
        "group__isnull=false",
        "--filter",
        "created__range=1,9",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert data["model"] == "testapp.AdvisedEvent"
    assert data["order_by"] == ["id"]
    assert status == (0 if data["served"] else 1)


def test_json_output_with_the_live_plan() -> None:
    status, out = _advise(
        EVENT, "--filter", "group=3", "--order-by=-id", "--explain", "--format", "json"
    )
    data = json.loads(out)
    assert status == 0
    assert data["served"] is True
    assert set(data["plan"]) == {"served", "sorts", "full_scan", "index_names", "sql"}


def test_text_output_with_the_live_plan() -> None:
    _, out = _advise(EVENT, "--filter", "group=3", "--explain")
    assert "Live plan on 'default': " in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nope.Model"],
            (
                "'nope.Model' is not an installed model: pass app_label.ModelName, "
                "e.g. grouphash.GroupHash."
            ),
        ),
        (
            [EVENT, "--filter", "group"],
            (
                "--filter 'group' is not LOOKUP=VALUE: write it like project_id=7 or "
                "group_id__in=1,2,3."
            ),
        ),
        (
            [EVENT, "--filter", "colour=red"],
            "--filter 'colour=red': testapp.AdvisedEvent has no field 'colour'.",
        ),
        (
            [EVENT, "--filter", "group__near=3"],
            (
                "--filter 'group__near=3': 'near' is not a lookup of 'group': name a "
                "column of testapp.AdvisedEvent (foreign keys by attname, e.g. "
                "group_id) and one lookup such as in, gt, gte, lt, lte, range or "
                "isnull."
            ),
        ),
        (
            [EVENT, "--filter", "group=abc"],
            (
                "--filter 'group=abc': 'abc' is not a valid group (“abc” value must be "
                "an integer.)"
            ),
        ),
        (
            [EVENT, "--filter", "created__range=1"],
            "--filter 'created__range=1': range takes 2 comma-separated values.",
        ),
        (
            [EVENT, "--filter", "group__isnull=maybe"],
            "--filter 'group__isnull=maybe': isnull takes true or false.",
        ),
        (
            [EVENT, "--order-by", "colour"],
            (
                "order_by 'colour' is not a field of testapp.AdvisedEvent: use one of "
                "its column names or 'pk'."
            ),
        ),
        (
            [EVENT, "--database", "other"],
            "--database 'other' is not in settings.DATABASES: use one of default.",
        ),
        (
            [EVENT, "--filter", "created=3", "--emit-migration"],
            (
                "--emit-migration: the app 'testapp' has no migrations package: run "
                "makemigrations testapp first."
            ),
        ),
    ],
)
def test_bad_input_is_one_clear_sentence(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as error:
        call_command("rangeqs_advise", *args, stdout=StringIO())
    assert str(error.value) == message


@pytest.fixture
def emitted_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """rangeqs_opsapp's migrations, copied to a package of their own, so the
    command can write into it without touching the source tree."""
    package = tmp_path / "rangeqs_emitted_migrations"
    source = Path(importlib.import_module("tests.opsapp.migrations").__file__ or "")
    shutil.copytree(
        source.parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with override_settings(
        MIGRATION_MODULES={"rangeqs_opsapp": "rangeqs_emitted_migrations"}
    ):
        yield package


@pytest.mark.django_db(transaction=True)
def test_emit_migration_writes_a_migration_that_runs_both_ways(
    emitted_migrations: Path,
) -> None:
    status, out = _advise(
        "rangeqs_opsapp.Widget",
        "--filter",
        "colour=red",
        "--order-by",
        "id",
        "--emit-migration",
    )
    assert status == 1
    (written,) = sorted(emitted_migrations.glob("0004_*.py"))
    assert f"Wrote {written}" in out
    source = written.read_text()
    assert "    atomic = False\n" in source
    assert "import rangeqs.operations" in source
    assert "('rangeqs_opsapp', '0003_remove_widget_size_id')" in source
    assert "rangeqs.operations.AddIndexNonBlocking(" in source

    executor = MigrationExecutor(connection)
    leaf = ("rangeqs_opsapp", written.stem)
    assert leaf in MigrationLoader(connection).graph.leaf_nodes("rangeqs_opsapp")
    try:
        executor.migrate([leaf])
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(
                cursor, "rangeqs_opsapp_widget"
            )
        assert any(c["columns"] == ["colour", "id"] for c in constraints.values())
    finally:
        MigrationExecutor(connection).migrate(
            [("rangeqs_opsapp", "0003_remove_widget_size_id")]
        )


def test_emit_migration_writes_nothing_when_served() -> None:
    status, out = _advise(EVENT, "--filter", "group=3", "--emit-migration")
    assert status == 0
    assert out.endswith("No migration written: there is no index to add.\n")
