"""Tables printed as aligned Markdown, so they paste into the docs unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.schema import Footprint

__all__ = [
    "Table",
    "Target",
    "format_bytes",
    "format_ratio",
    "format_seconds",
    "format_table",
    "generation_note",
    "targets_table",
    "verdict",
]


@dataclass
class Table:
    title: str
    columns: Sequence[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """One speed goal: ``measured`` must be at most (or at least) ``limit``."""

    name: str
    measured: float | None
    limit: float
    at_most: bool = True

    @property
    def passed(self) -> bool | None:
        if self.measured is None:
            return None
        if self.at_most:
            return self.measured <= self.limit
        return self.measured >= self.limit


def format_table(table: Table) -> str:
    widths = [
        max(len(cell) for cell in column)
        for column in zip(table.columns, *table.rows, strict=True)
    ]
    lines = [
        f"### {table.title}",
        "",
        _line(table.columns, widths),
        "|" + "|".join("-" * (width + 2) for width in widths) + "|",
        *(_line(row, widths) for row in table.rows),
    ]
    if table.notes:
        lines += ["", *table.notes]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return (
        "| "
        + " | ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))
        + " |"
    )


def format_ratio(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def format_seconds(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def format_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def targets_table(targets: Sequence[Target]) -> Table:
    table = Table("Targets", ["target", "measured", "limit", "result"])
    for target in targets:
        table.rows.append(
            [
                target.name,
                format_ratio(target.measured),
                ("<= " if target.at_most else ">= ") + format_ratio(target.limit),
                verdict(target),
            ]
        )
    return table


def generation_note(rows: int, seconds: float | None, size: Footprint) -> str:
    if seconds is None:
        made = f"The table of {rows:,} rows was reused (--keep)."
    else:
        made = (
            f"The table of {rows:,} rows was generated in the database and "
            f"indexed in {seconds:.1f} s."
        )
    share = size.cached_share
    held = (
        "all of them"
        if share >= 1
        else f"{share:.0%} of them: the other pages come from the operating "
        "system's cache or the disk, whichever holds them at the time"
    )
    return (
        f"{made} It takes {format_bytes(size.table_bytes)}, its indexes "
        f"{format_bytes(size.index_bytes)}; shared_buffers "
        f"({format_bytes(size.shared_buffers_bytes)}) holds {held}."
    )


def verdict(target: Target) -> str:
    if target.passed is None:
        return "not measured"
    return "PASS" if target.passed else "FAIL"
