"""Names the ``inlist`` command accepts, importable before Django is set up
(the modules that measure define models, which need it)."""

from __future__ import annotations

__all__ = ["BASELINE", "SET_NAMES", "STRATEGY_NAMES"]

SET_NAMES = ("dense", "sparse")

# The streaming baseline every ratio is taken against.
BASELINE = "iterator"

STRATEGY_NAMES = (
    BASELINE,
    "plain",
    "merge",
    "partition",
    "auto",
    "chunkator",
    "keyset-pagination-plus",
)
