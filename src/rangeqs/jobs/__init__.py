"""Batched background jobs over keyset ranges.

:func:`split` and :class:`KeyRange` need no app. The rest needs
``"rangeqs.jobs"`` in ``INSTALLED_APPS`` and is imported on first use: an
app's package is imported before its models can be.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from rangeqs.jobs._split import KeyRange, split

if TYPE_CHECKING:
    from rangeqs.jobs._control import (
        cancel,
        create_job,
        pause,
        resume,
        retry_failed,
        run_inline,
        start,
    )
    from rangeqs.jobs._engine import Batch, Outcome, run_range
    from rangeqs.jobs._progress import JobProgress, progress

_LAZY = {
    "Batch": "rangeqs.jobs._engine",
    "Outcome": "rangeqs.jobs._engine",
    "run_range": "rangeqs.jobs._engine",
    "cancel": "rangeqs.jobs._control",
    "create_job": "rangeqs.jobs._control",
    "pause": "rangeqs.jobs._control",
    "resume": "rangeqs.jobs._control",
    "retry_failed": "rangeqs.jobs._control",
    "run_inline": "rangeqs.jobs._control",
    "start": "rangeqs.jobs._control",
    "JobProgress": "rangeqs.jobs._progress",
    "progress": "rangeqs.jobs._progress",
}

__all__ = [
    "Batch",
    "JobProgress",
    "KeyRange",
    "Outcome",
    "cancel",
    "create_job",
    "pause",
    "progress",
    "resume",
    "retry_failed",
    "run_inline",
    "run_range",
    "split",
    "start",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rangeqs.jobs' has no attribute {name!r}")
