"""The demo's PNG chart: the time of every page, one line per walk, one
panel per target set."""

from __future__ import annotations

import importlib
import statistics
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from rangeqs.examples.grouphash.measure import WalkMeasurement

__all__ = ["MEDIAN_WINDOW", "running_median", "write_chart"]

MEDIAN_WINDOW = 9
# The seed's walk first, in a warm colour; rangeqs's in a cool one.
_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:orange")

MISSING_MATPLOTLIB = (
    "--chart needs matplotlib: install it with `pip install matplotlib`, "
    "or leave out --chart."
)


def running_median(values: Sequence[float], *, window: int) -> list[float]:
    """The median of each value's ``window`` neighbours (fewer at the ends)."""
    half = window // 2
    return [
        statistics.median(values[max(0, i - half) : i + half + 1])
        for i in range(len(values))
    ]


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
        1, max(len(sets), 1), figsize=(max(9.0, 6.5 * len(sets)), 5.0), squeeze=False
    )
    for panel, target_set in zip(panels[0], sets, strict=False):
        walks = [m for m in measurements if m.target_set == target_set]
        for color, m in zip(_COLORS, walks, strict=False):
            numbers = range(1, len(m.pages) + 1)
            times = [page.seconds * 1000 for page in m.pages]
            # Every page, faint; over it the running median, which a burst
            # of load on a shared machine does not move.
            panel.plot(numbers, times, color=color, linewidth=0.7, alpha=0.35)
            panel.plot(
                numbers,
                running_median(times, window=MEDIAN_WINDOW),
                color=color,
                linewidth=2.2,
                label=f"{m.walk}: {m.seconds:.2f} s in all",
            )
        rows, page_count = (walks[0].rows, len(walks[0].pages)) if walks else (0, 0)
        panel.set_title(f"{target_set} set: {rows:,} rows in {page_count:,} pages")
        panel.set_xlabel("page number")
        panel.set_ylabel("page time (ms)")
        panel.set_ylim(bottom=0)
        panel.grid(alpha=0.3)
        panel.legend(fontsize="small", loc="upper right")
    figure.suptitle(
        f"{title or 'GroupHash walk: the time of each page'}\n"
        f"faint: every page; bold: the median of {MEDIAN_WINDOW} pages around it",
        fontsize="medium",
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
