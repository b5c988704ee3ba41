from __future__ import annotations


class InvalidQuerySetError(ValueError):
    """A queryset or option that cannot be iterated safely.

    The message is one sentence: what is wrong and how to fix it.
    """


class PositionNotAdvancingError(InvalidQuerySetError):
    """A page came back to the row it was to follow: iterating on would repeat
    the same rows forever, so the wrapper stops instead.
    """
