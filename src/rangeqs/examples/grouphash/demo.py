"""The GroupHash demo: the seed's slow walk and the rangeqs walk, in numbers.

Run it with ``python -m rangeqs.examples.grouphash`` (see ``--help``); Django
must be configured first (``__main__`` does it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from django.db import connection
from tqdm import tqdm

from rangeqs.advisor import advise
from rangeqs.examples.grouphash.datagen import TARGET_SETS, generate
from rangeqs.examples.grouphash.measure import measure, table
from rangeqs.examples.grouphash.models import GroupHash
from rangeqs.examples.grouphash.schema import (
    ALTERNATIVE_MIGRATIONS,
    INITIAL,
    OPTION_1,
    OPTION_2,
    historical_grouphash,
    migrate,
)
from rangeqs.examples.grouphash.tasks import (
    RANGEQS_WALK,
    SEED_OPTION_1_WALK,
    SEED_WALK,
)

if TYPE_CHECKING:
    from pathlib import Path

    from django.db.models import Model

    from rangeqs.examples.grouphash.datagen import TargetSet
    from rangeqs.examples.grouphash.measure import Measurement

__all__ = ["WALKS", "run_demo"]

WALKS = [
    ("seed, original: project_id + group_id IN", SEED_WALK),
    ("seed, Option 1: group_id IN", SEED_OPTION_1_WALK),
    ("rangeqs: project_id + group_id IN", RANGEQS_WALK),
]


def run_demo(*, rows: int, out: TextIO, chart: Path | None = None) -> list[Measurement]:
    """Build the table, show the advisor's verdicts, run the walks, print the table."""
    print(f"rangeqs GroupHash demo on {connection.vendor}, {rows:,} rows", file=out)
    # The demo owns the example's three tables: start them afresh.
    migrate(None)
    migrate(INITIAL)
    with tqdm(total=rows, unit="rows", desc="Generating GroupHash rows") as progress:
        generate(rows, progress=progress)
    _analyze()
    print("Target sets, their ids interleaved with the rest of the table:", file=out)
    for target in TARGET_SETS:
        count = GroupHash.objects.filter(group_id__in=target.group_ids).count()
        print(
            f"  {target.name}: {count:,} rows ({count / rows:.1%}) in "
            f"{len(target.group_ids)} groups of project {target.project_id}",
            file=out,
        )
    _print_advice(TARGET_SETS[0], out)

    measurements = [
        measure(target.name, target.group_ids, walk_name, walk)
        for target in TARGET_SETS
        for walk_name, walk in WALKS
    ]
    print(
        "\nThe deletion task, batch size 100, with a Seer client that counts:\n",
        file=out,
    )
    print(table(measurements), file=out)
    print(
        "\nseconds: the whole run (queries, building them, enqueueing each batch); "
        "db seconds: the part inside the database's execute calls, which the plan "
        "decides.",
        file=out,
    )
    if chart is not None:
        from rangeqs.examples.grouphash.chart import write_chart  # noqa: PLC0415

        write_chart(measurements, chart)
        print(f"\nChart written to {chart}.", file=out)
    print(
        "\nScale it up: python -m rangeqs.examples.grouphash --rows 5000000 "
        "--embedded-postgres (or tox -e demo -- --rows 5000000 ...). The seed's "
        "pages read rows of every listed group, or every row between two "
        "matches; the rangeqs pages read about one batch of index entries at "
        "any size.",
        file=out,
    )
    return measurements


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
    )


def _advice(
    title: str,
    model: type[Model],
    target: TargetSet,
    *,
    order_by: tuple[str, ...],
    tenant_filter: bool = True,
    out: TextIO,
) -> None:
    queryset = model._default_manager.filter(group_id__in=target.group_ids)
    if tenant_filter:
        queryset = queryset.filter(project_id=target.project_id)
    report = advise(queryset.values_list("hash", flat=True), order_by=order_by)
    print(f"\n== {title}\n{report}", file=out)
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
    # Statistics make the planners of both databases choose as in production.
    if connection.vendor in ("postgresql", "sqlite"):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sentry_grouphash")
