"""manage.py rangeqs_advise: the index advisor on the command line.

    python manage.py rangeqs_advise grouphash.GroupHash \
        --filter group_id__in=1,2,3 --filter project_id=7 --order-by group_id,id

Exit status 0 when one index serves the walk, 1 when none does (for CI).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.management.utils import run_formatters
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations import Migration
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.writer import MigrationWriter
from django.db.models import BooleanField
from django.db.models.constants import LOOKUP_SEP

from rangeqs.advisor import advise
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from django.db.models import Model

    from rangeqs.advisor import Recommendation

# Lookups whose value is a comma-separated list, and how many items it takes.
_LIST_LOOKUPS = {"in": None, "range": 2}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class Command(BaseCommand):
    help = (
        "Check whether one index serves a keyset walk over a model with the given "
        "filters and order; exit 0 when served, 1 when not."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("model", help="app_label.ModelName")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="LOOKUP=VALUE",
            help="A filter, e.g. project_id=7 or group_id__in=1,2,3 (repeatable).",
        )
        parser.add_argument(
            "--order-by",
            default="pk",
            help="The keyset order, comma-separated, '-' for descending (default pk).",
        )
        parser.add_argument(
            "--explain",
            action="store_true",
            help=(
                "Also EXPLAIN a keyset page on the database and show the plan; the "
                "recommendation then puts the most selective column first."
            ),
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The database whose rules and planner apply (default 'default').",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument(
            "--emit-migration",
            action="store_true",
            help="Write a migration adding the recommended index into the app.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model = _model(options["model"])
        filters = dict(_parse_filter(model, raw) for raw in options["filter"])
        order_by = [name.strip() for name in options["order_by"].split(",")]
        database = options["database"]
        if database not in connections:
            raise CommandError(
                f"--database {database!r} is not in settings.DATABASES: use one of "
                f"{', '.join(connections)}."
            )
        queryset = model._default_manager.using(database).filter(**filters)
        try:
            report = advise(
                queryset,
                order_by=order_by,
                using=database,
                statistics=options["explain"],
            )
        except InvalidQuerySetError as exc:
            raise CommandError(str(exc)) from None
        plan = report.verify(using=database) if options["explain"] else None
        migration_path = None
        if options["emit_migration"] and report.recommendation is not None:
            migration_path = _write_migration(report.recommendation)

        if options["format"] == "json":
            data = report.as_dict()
            if plan is not None:
                data["plan"] = {
                    "served": plan.served,
                    "sorts": plan.sorts,
                    "full_scan": plan.full_scan,
                    "index_names": list(plan.index_names),
                    "sql": plan.sql,
                }
            data["migration"] = migration_path
            self.stdout.write(json.dumps(data, indent=2))
        else:
            self.stdout.write(str(report))
            if plan is not None:
                self.stdout.write(f"Live plan on {database!r}: {plan}")
            if options["emit_migration"]:
                self.stdout.write(
                    f"Wrote {migration_path}"
                    if migration_path
                    else "No migration written: there is no index to add."
                )
        if not report.served:
            sys.exit(1)


def _model(label: str) -> type[Model]:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        raise CommandError(
            f"{label!r} is not an installed model: pass app_label.ModelName, "
            f"e.g. grouphash.GroupHash."
        ) from None


def _parse_filter(model: type[Model], raw: str) -> tuple[str, Any]:
    lookup, sep, text = raw.partition("=")
    if not sep or not lookup:
        raise CommandError(
            f"--filter {raw!r} is not LOOKUP=VALUE: write it like project_id=7 or "
            f"group_id__in=1,2,3."
        )
    name, _, lookup_name = lookup.partition(LOOKUP_SEP)
    try:
        field: Any = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise CommandError(
            f"--filter {raw!r}: {model._meta.label} has no field {name!r}."
        ) from None
    lookup_name = lookup_name or "exact"
    if LOOKUP_SEP in lookup_name or field.get_lookup(lookup_name) is None:
        raise CommandError(
            f"--filter {raw!r}: {lookup_name!r} is not a lookup of {name!r}: name "
            f"a column of {model._meta.label} (foreign keys by attname, e.g. "
            f"group_id) and one lookup such as in, gt, gte, lt, lte, range or isnull."
        )
    if lookup_name == "isnull":
        if text.lower() not in _BOOLEANS:
            raise CommandError(f"--filter {raw!r}: isnull takes true or false.")
        return lookup, _BOOLEANS[text.lower()]
    if lookup_name in _LIST_LOOKUPS:
        items = [item.strip() for item in text.split(",")]
        expected = _LIST_LOOKUPS[lookup_name]
        if expected is not None and len(items) != expected:
            raise CommandError(
                f"--filter {raw!r}: {lookup_name} takes {expected} comma-separated "
                f"values."
            )
        return lookup, [_value(field, item, raw) for item in items]
    return lookup, _value(field, text, raw)


def _value(field: Any, text: str, raw: str) -> Any:
    if isinstance(field, BooleanField) and text.lower() in _BOOLEANS:
        return _BOOLEANS[text.lower()]
    try:
        return field.to_python(text)
    except ValidationError as exc:
        raise CommandError(
            f"--filter {raw!r}: {text!r} is not a valid {field.name} "
            f"({' '.join(exc.messages)})"
        ) from None


def _write_migration(recommendation: Recommendation) -> str:
    app_label = recommendation.model._meta.app_label
    loader = MigrationLoader(None, ignore_no_migrations=True)
    if app_label not in loader.migrated_apps:
        raise CommandError(
            f"--emit-migration: the app {app_label!r} has no migrations package: "
            f"run makemigrations {app_label} first."
        )
    leaves = loader.graph.leaf_nodes(app_label)
    number = 1 + max(
        (MigrationAutodetector.parse_number(name) or 0 for _, name in leaves),
        default=0,
    )
    operation = recommendation.operation()
    migration_class = type(
        "Migration",
        (Migration,),
        {"dependencies": list(leaves), "operations": [operation]},
    )
    migration = migration_class(
        f"{number:04d}_{operation.migration_name_fragment}", app_label
    )
    writer = MigrationWriter(migration)
    header = "class Migration(migrations.Migration):\n"
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    source = writer.as_string().replace(header, header + "    atomic = False\n", 1)
    with open(writer.path, "w", encoding="utf-8") as migration_file:
        migration_file.write(source)
    # As makemigrations does: black, when it is installed.
    run_formatters([writer.path])
    return str(writer.path)
