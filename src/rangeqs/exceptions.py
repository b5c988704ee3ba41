from __future__ import annotations


class InvalidQuerySetError(ValueError):
    """A queryset or option that cannot be iterated safely.

    The message is one sentence: what is wrong and how to fix it.
    """
