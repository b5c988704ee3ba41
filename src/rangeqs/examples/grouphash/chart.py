"""The demo's PNG chart: the time of every page, one line per walk, one
panel per target set."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from rangeqs.examples.grouphash.measure import WalkMeasurement

__all__ = ["chart_available", "write_chart"]

MISSING_MATPLOTLIB = (
    "--chart needs matplotlib: install it with `pip install matplotlib`, "
    "or leave out --chart."
)


def chart_available() -> bool:
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return False
    return True


def write_chart(
    measurements: Sequence[WalkMeasurement], path: Path, *, title: str = ""
) -> None:
    """Page number against page time (ms) for each walk, a panel per set."""
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")  # files only: no display is needed
        pyplot: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise RuntimeError(MISSING_MATPLOTLIB) from exc
    sets = list(dict.fromkeys(m.target_set for m in measurements))
    figure, panels = pyplot.subplots(
        1, max(len(sets), 1), figsize=(6.5 * max(len(sets), 1), 4.8), squeeze=False
    )
    for panel, target_set in zip(panels[0], sets, strict=False):
        walks = [m for m in measurements if m.target_set == target_set]
        for m in walks:
            panel.plot(
                range(1, len(m.pages) + 1),
                [page.seconds * 1000 for page in m.pages],
                linewidth=1.2,
                label=f"{m.walk}: {m.seconds:.2f} s in all",
            )
        rows, page_count = (walks[0].rows, len(walks[0].pages)) if walks else (0, 0)
        panel.set_title(f"{target_set} set: {rows:,} rows in {page_count:,} pages")
        panel.set_xlabel("page number")
        panel.set_ylabel("page time (ms)")
        panel.set_ylim(bottom=0)
        panel.grid(alpha=0.3)
        panel.legend(fontsize="small", loc="upper right")
    figure.suptitle(title or "GroupHash walk: the time of each page")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
