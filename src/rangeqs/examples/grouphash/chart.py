"""The demo's PNG chart: whole-run and database seconds of each walk, per set."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from rangeqs.examples.grouphash.measure import Measurement

__all__ = ["write_chart"]


def write_chart(measurements: Sequence[Measurement], path: Path) -> None:
    """Write two bar charts side by side: seconds and database seconds."""
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
    figure, panels = pyplot.subplots(1, 2, figsize=(11, 4.5))
    width = 0.8 / max(len(walks), 1)
    for panel, (title, attribute) in zip(
        panels,
        [("whole run", "seconds"), ("inside the database", "database_seconds")],
        strict=True,
    ):
        for offset, walk in enumerate(walks):
            by_set = {
                m.target_set: getattr(m, attribute)
                for m in measurements
                if m.walk == walk
            }
            panel.bar(
                [i + offset * width for i in range(len(sets))],
                [by_set.get(target_set, 0) for target_set in sets],
                width,
                label=walk,
            )
        panel.set_xticks(
            [i + width * (len(walks) - 1) / 2 for i in range(len(sets))], sets
        )
        panel.set_ylabel("seconds")
        panel.set_title(f"Seconds, {title}")
    panels[0].legend(fontsize="small")
    figure.suptitle("GroupHash Seer deletion walk: the seed's shapes against rangeqs")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
