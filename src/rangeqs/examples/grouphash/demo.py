"""The GroupHash demo: the seed's walk and the rangeqs walk, page by page.

Run it with ``python -m rangeqs.examples.grouphash`` (see ``--help``); Django
must be configured first (``__main__`` does it).
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from django.db import connection, transaction
from tqdm import tqdm

from rangeqs._plans.bounded import PLANNER_SETTINGS
from rangeqs.advisor import advise
from rangeqs.examples.grouphash.datagen import TARGET_SETS, generate, target_set
from rangeqs.examples.grouphash.measure import (
    measure_walk,
    page_times_table,
    totals_table,
)
from rangeqs.examples.grouphash.models import GroupHash
from rangeqs.examples.grouphash.schema import (
    ALTERNATIVE_MIGRATIONS,
    INITIAL,
    OPTION_1,
    OPTION_2,
    historical_grouphash,
    migrate,
)
from rangeqs.examples.grouphash.tasks import RANGEQS_WALK, SEED_WALK

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from django.db.models import Model

    from rangeqs.examples.grouphash.datagen import TargetSet
    from rangeqs.examples.grouphash.measure import WalkMeasurement

__all__ = ["STEP", "WALKS", "run_demo"]

# Both keep the seed's tenant filter, project_id = X.
WALKS = [
    ("seed: ORDER BY id", SEED_WALK),
    ("rangeqs: ORDER BY group_id, id", RANGEQS_WALK),
]
# The seed's page size.
STEP = 100
# Page times printed per walk, from the first page to the last.
PAGE_TIME_POINTS = 11


def run_demo(
    *,
    rows: int,
    out: TextIO,
    chart: Path | None = None,
    sets: Sequence[str],
) -> list[WalkMeasurement]:
    """Build the table, show the advisor's verdicts, walk each set with the
    seed's query and with rangeqs's, print every page's time and the totals."""
    started = time.perf_counter()
    targets = [target_set(name) for name in sets]
    print(
        f"rangeqs GroupHash demo on {_database_name()}, {rows:,} rows; {_machine()}",
        file=out,
    )
    # The demo owns the example's three tables: start them afresh.
    migrate(None)
    migrate(INITIAL)
    with tqdm(total=rows, unit="rows", desc="Generating GroupHash rows") as progress:
        generate(rows, progress=progress)
    _analyze()
    print(
        f"Generated and indexed in {time.perf_counter() - started:.1f} s. Target "
        f"sets, their ids interleaved with the rest of the table (background "
        f"groups of one hash each):",
        file=out,
    )
    for target in TARGET_SETS:
        count = GroupHash.objects.filter(group_id__in=target.group_ids).count()
        print(
            f"  {target.name}: {count:,} rows ({count / rows:.1%}) in "
            f"{len(target.group_ids)} groups of project {target.project_id}",
            file=out,
        )
    _print_advice(targets[-1], out)

    measurements = [
        measure_walk(target, walk_name, walk, step=STEP)
        for target in targets
        for walk_name, walk in WALKS
    ]
    print(
        f"\nThe Seer deletion task's walk, {STEP} hashes a page, with the tenant "
        f"filter project_id = X kept; every hash comes once. Milliseconds per "
        f"page, from the first page to the last:\n",
        file=out,
    )
    print(page_times_table(measurements, points=PAGE_TIME_POINTS), file=out)
    print("\nTotals:\n", file=out)
    print(totals_table(measurements), file=out)
    print(
        "\nseconds: the whole walk (queries and Django making the rows); db "
        "seconds: the part inside the database's execute calls, which the query "
        "plan decides.",
        file=out,
    )
    if chart is not None:
        from rangeqs.examples.grouphash.chart import write_chart  # noqa: PLC0415

        write_chart(
            measurements,
            chart,
            title=f"GroupHash walk on {_database_name()}, {rows:,} rows: "
            f"the time of each page",
        )
        print(f"\nChart of every page's time: {chart.resolve()}", file=out)
    print(
        f"\nDone in {time.perf_counter() - started:.1f} s. Where the planner "
        "expects few matches (the sparse set), the seed's page fetches every "
        "remaining match of the listed groups and sorts them: its cost follows "
        "the set, not the page, and the whole walk grows with the set times its "
        "pages. Where it knows the groups (the dense set, --sets dense), it "
        "walks the primary key and reads every row between two matches. The "
        "rangeqs page takes its rows in (group_id, id) order from an index and "
        "sorts nothing that is left of the set. Scale it up with --rows "
        "5000000.",
        file=out,
    )
    return measurements


def _database_name() -> str:
    if connection.vendor == "postgresql":
        major, minor = divmod(connection.pg_version, 10000)  # type: ignore[attr-defined]
        return f"PostgreSQL {major}.{minor}"
    if connection.vendor == "sqlite":
        import sqlite3  # noqa: PLC0415

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.display_name


def _machine() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        f"{now:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )


def _print_advice(target: TargetSet, out: TextIO) -> None:
    """The advisor's verdict on each shape, checked against the live planner
    while the schema holds exactly that shape's indexes."""
    seed = historical_grouphash(INITIAL)
    _advice(
        "The seed's original query: project_id = X AND group_id IN (...), "
        "ORDER BY id, no extra index",
        seed,
        target,
        order_by=("id",),
        out=out,
    )
    migrate(OPTION_2, module=ALTERNATIVE_MIGRATIONS)
    _advice(
        "Option 2: the same query with an index on (project_id, group_id, id)",
        historical_grouphash(OPTION_2, module=ALTERNATIVE_MIGRATIONS),
        target,
        order_by=("id",),
        out=out,
    )
    migrate(INITIAL, module=ALTERNATIVE_MIGRATIONS)
    migrate(OPTION_1)
    _advice(
        "Option 1: group_id IN (...) without the tenant filter, ORDER BY id, "
        "index on (group_id, id)",
        historical_grouphash(OPTION_1),
        target,
        order_by=("id",),
        tenant_filter=False,
        out=out,
    )
    _advice(
        "rangeqs: project_id = X AND group_id IN (...), ORDER BY group_id, id, "
        "index on (group_id, id), plan='partition'",
        GroupHash,
        target,
        order_by=RANGEQS_WALK.order_by,
        out=out,
        guarded=True,
    )


@contextmanager
def _page_guard() -> Iterator[None]:
    """On PostgreSQL, the planner settings the wrapper's page guard gives this
    walk's pages (no sort, so the planner keeps to the index that gives the
    keys' order; docs/explanation/in-list-plans.md), for one transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    # The guard's own list of settings: the demo explains what pages run.
    writes = ", ".join(
        f"set_config('{name}', 'off', true)" for name in PLANNER_SETTINGS
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT {writes}")
        yield


def _advice(
    title: str,
    model: type[Model],
    target: TargetSet,
    *,
    order_by: tuple[str, ...],
    tenant_filter: bool = True,
    guarded: bool = False,
    out: TextIO,
) -> None:
    queryset = model._default_manager.filter(group_id__in=target.group_ids)
    if tenant_filter:
        queryset = queryset.filter(project_id=target.project_id)
    report = advise(queryset.values_list("hash", flat=True), order_by=order_by)
    print(f"\n== {title}\n{report}", file=out)
    if guarded and connection.vendor == "postgresql":
        # The query as written lets the planner's estimates pick another
        # index and a sort; the wrapper runs its pages under its guard.
        with _page_guard():
            plan = report.verify()
        print(f"Live plan of page 2 (as the wrapper runs it): {plan}", file=out)
    else:
        plan = report.verify()
        print(f"Live plan of page 2: {plan}", file=out)
    if plan.served != report.served:
        # The advisor says whether some index can serve the walk; the planner
        # picks one index by its own cost estimates and may pick another.
        chosen = ", ".join(plan.index_names) or "no index"
        print(
            f"The live plan disagrees with the static verdict: the planner's "
            f"estimates chose {chosen}, the advisor judged {report.index_name}.",
            file=out,
        )


def _analyze() -> None:
    # Statistics make the planners choose as in production; on PostgreSQL,
    # VACUUM also sets the hint bits and the visibility map now, so that the
    # first walk measured does not pay for them.
    statement = {
        "postgresql": "VACUUM (ANALYZE) sentry_grouphash",
        "sqlite": "ANALYZE sentry_grouphash",
    }.get(connection.vendor)
    if statement:
        with connection.cursor() as cursor:
            cursor.execute(statement)
