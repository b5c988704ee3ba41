"""The adaptive step: toward ``target_seconds`` a batch, within bounds.

The rule is proportional, as django-mysql's ``SmartChunkedIterator``: the next
step is ``step * target / seconds``, so a batch whose cost grows with its
rows reaches the target in one or two batches. Each change is capped at a
factor of two either way, so that one slow batch (a lock wait, a cold cache)
halves the step at most instead of collapsing it. GitLab's rule (+10 % /
-20 % a batch) is steadier under noise but takes dozens of batches to move a
step by 10x; a range may have only a few dozen batches in all.
"""

from __future__ import annotations

MAX_CHANGE = 2.0


def next_step(
    step: int, seconds: float, *, target: float, min_step: int, max_step: int
) -> int:
    """The step for the batch after one of ``step`` rows that took ``seconds``."""
    factor = MAX_CHANGE if seconds <= 0 else target / seconds
    factor = min(MAX_CHANGE, max(1 / MAX_CHANGE, factor))
    return bounded(round(step * factor), min_step=min_step, max_step=max_step)


def smaller_step(step: int, *, min_step: int) -> int:
    """The step to retry a failed batch with: half, as a timed-out batch most
    likely failed for its size."""
    return max(min_step, step // 2)


def bounded(step: int, *, min_step: int, max_step: int) -> int:
    return max(min_step, min(max_step, step))
