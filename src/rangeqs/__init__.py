"""Keyset iteration over large, filtered Django querysets."""

from __future__ import annotations

from rangeqs.exceptions import InvalidQuerySetError

__version__ = "0.1.0"

__all__ = ["InvalidQuerySetError"]
