"""The demo's PNG chart: rows per second of each walk, per target set."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from rangeqs.examples.grouphash.measure import Measurement

__all__ = ["write_chart"]


def write_chart(measurements: Sequence[Measurement], path: Path) -> None:
    """Write a bar chart of rows/s, one group of bars per target set."""
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")  # files only: no display is needed
        pyplot: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise RuntimeError(
            "--chart needs matplotlib: install it with `pip install matplotlib`, "
            "or leave out --chart."
        ) from exc
    sets = list(dict.fromkeys(m.target_set for m in measurements))
    walks = list(dict.fromkeys(m.walk for m in measurements))
    figure, axes = pyplot.subplots(figsize=(8, 4.5))
    width = 0.8 / len(walks)
    for offset, walk in enumerate(walks):
        by_set = {
            m.target_set: m.rows_per_second for m in measurements if m.walk == walk
        }
        axes.bar(
            [i + offset * width for i in range(len(sets))],
            [by_set.get(target_set, 0) for target_set in sets],
            width,
            label=walk,
        )
    axes.set_xticks([i + width * (len(walks) - 1) / 2 for i in range(len(sets))], sets)
    axes.set_yscale("log")
    axes.set_ylabel("hashes scheduled per second (log scale)")
    axes.set_title("GroupHash deletion walk: the seed's shape against rangeqs")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
