"""Batched background jobs over keyset ranges.

:func:`split` and :class:`KeyRange` need no app; the job models, runners and
commands need ``"rangeqs.jobs"`` in ``INSTALLED_APPS``.
"""

from __future__ import annotations

from rangeqs.jobs._split import KeyRange, split

__all__ = ["KeyRange", "split"]
