"""Names the ``inlist`` command accepts, importable before Django is set up
(the modules that measure define models, which need it)."""

from __future__ import annotations

__all__ = ["BASELINE", "SET_NAMES", "STRATEGY_NAMES"]

# The -project sets keep the tenant filter, project_id = 1, beside the IN
# list: the walked groups are all of that project, so the two filters are
# correlated and the planner, multiplying their selectivities, underestimates
# the matches (findings section 4).
SET_NAMES = ("dense", "sparse", "dense-project", "sparse-project")

# The streaming baseline every ratio is taken against.
BASELINE = "iterator"

STRATEGY_NAMES = (
    BASELINE,
    "plain",
    "merge",
    "partition",
    "auto",
    "auto-grouped",
    "chunkator",
    "keyset-pagination-plus",
)
