"""Advice logged once per process and shape, on logger ``"rangeqs"``.

A worker builds the same wrapper for every task it runs, over lists of
changing length: one warning per shape is advice, one per task is noise. A
shape is a key such as :meth:`rangeqs._index_rules.Verdict.warning_key`
(the model, the order, the index and what it lacks), never the text, which
names the values filtered on. ``check_index=True`` and ``plan="auto"`` share
the keys, so a wrapper with both logs once. The registry holds one entry per
shape of the program's code, which is bounded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

__all__ = ["already_warned", "forget_warnings", "warn_once_for"]

logger = logging.getLogger("rangeqs")

_warned: set[Hashable] = set()


def already_warned(key: Hashable) -> bool:
    return key in _warned


def warn_once_for(key: Hashable, render: Callable[[], Any]) -> None:
    """Log ``render()`` as a warning unless ``key`` was logged before."""
    if key in _warned:
        return
    _warned.add(key)
    logger.warning("%s", render())


def forget_warnings() -> None:
    """Warn afresh for every shape (tests start from an empty registry)."""
    _warned.clear()
