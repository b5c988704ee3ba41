"""What a benchmark hands back to the command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.report import format_table, targets_table

if TYPE_CHECKING:
    from benchmarks.report import Table, Target

__all__ = ["BenchmarkResult"]


@dataclass(frozen=True)
class BenchmarkResult:
    tables: list[Table]
    targets: list[Target]

    @property
    def passed(self) -> bool:
        return all(target.passed for target in self.targets)

    def render(self) -> str:
        tables = (
            [*self.tables, targets_table(self.targets)] if self.targets else self.tables
        )
        return "\n\n".join(format_table(table) for table in tables)
