"""What compiled pages buy: a full pass per plan and step, both ways.

``python -m benchmarks.compiled_pages --database sqlite`` (in memory) or
``--database postgresql`` (an embedded server): the same walk with
``RANGEQS_COMPILED_PAGES`` true (statements compiled once, rebound) and
false (each page an ordinary queryset), in one run, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from benchmarks.settings import configure_django
from rangeqs.examples.embedded_postgres import start_embedded_postgres

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rangeqs._plans import PlanName

#: order_by per plan over ``group_id IN (...)`` (rangeqs._plans); every
#: order served by the index ``(group_id, id)``.
ORDERS: dict[PlanName, tuple[str, ...]] = {
    "plain": ("group_id", "id"),
    "partition": ("group_id", "id"),
    "merge": ("id",),
}
GROUPS = 50
LISTED = list(range(10))


def _load(rows: int) -> None:
    from django.db import connection  # noqa: PLC0415

    from benchmarks.models import BenchGroupHash  # noqa: PLC0415

    with connection.schema_editor() as editor:
        editor.create_model(BenchGroupHash)
    batch = 10_000
    for start in range(0, rows, batch):
        BenchGroupHash.objects.bulk_create(
            BenchGroupHash(
                id=i + 1, project_id=1 + i % 3, group_id=i % GROUPS, hash=f"{i:032d}"
            )
            for i in range(start, min(rows, start + batch))
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE"
            if connection.vendor == "sqlite"
            else "ANALYZE rangeqs_bench_grouphash"
        )


def _pass(plan: PlanName, step: int, *, compiled: bool) -> tuple[float, int, int]:
    from django.test.utils import override_settings  # noqa: PLC0415

    from benchmarks.models import BenchGroupHash  # noqa: PLC0415
    from rangeqs import RangeQuerySetWrapper  # noqa: PLC0415

    with override_settings(RANGEQS_COMPILED_PAGES=compiled):
        wrapper = RangeQuerySetWrapper(
            BenchGroupHash.objects.filter(group_id__in=LISTED),
            order_by=ORDERS[plan],
            step=step,
            plan=plan,
        )
        started = time.perf_counter()
        rows = sum(1 for _ in wrapper)
        return time.perf_counter() - started, rows, wrapper.queries


def run(rows: int, steps: Sequence[int], repeat: int) -> list[dict[str, Any]]:
    _load(rows)
    results = []
    for plan in ORDERS:
        for step in steps:
            best: dict[bool, tuple[float, int, int]] = {}
            # A pass each way first: caches warm, the plan's imports made.
            _pass(plan, step, compiled=True)
            _pass(plan, step, compiled=False)
            for _ in range(repeat):
                # Alternated, so that drift in the machine hits both alike.
                for compiled in (True, False):
                    measured = _pass(plan, step, compiled=compiled)
                    if compiled not in best or measured[0] < best[compiled][0]:
                        best[compiled] = measured
            results.append(
                {
                    "plan": plan,
                    "step": step,
                    "rows": best[True][1],
                    "compiled_s": best[True][0],
                    "fallback_s": best[False][0],
                    "ratio": best[True][0] / best[False][0],
                    "statements": (best[True][2], best[False][2]),
                }
            )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compiled_pages")
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite"
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--steps", default="100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    server = None
    if args.database == "sqlite":
        configure_django({"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"})
    else:
        server = start_embedded_postgres()
        configure_django(server.database_settings("postgres"))
    try:
        steps = [int(step) for step in args.steps.split(",")]
        results = run(args.rows, steps, args.repeat)
    finally:
        if server is not None:
            from django.db import connections  # noqa: PLC0415

            connections.close_all()
            server.stop()
    print(
        f"{args.database}, {args.rows:,} rows, {len(LISTED)} of {GROUPS} groups "
        f"listed, best of {args.repeat}"
    )
    print("plan       step   rows  compiled s  fallback s  ratio  statements c/f")
    for r in results:
        print(
            f"{r['plan']:<10} {r['step']:>4} {r['rows']:>6} {r['compiled_s']:>11.3f} "
            f"{r['fallback_s']:>11.3f} {r['ratio']:>6.2f}  "
            f"{r['statements'][0]}/{r['statements'][1]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
