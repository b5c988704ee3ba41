"""Keyset iteration over large, filtered Django querysets."""

from __future__ import annotations

from rangeqs.exceptions import InvalidQuerySetError
from rangeqs.progress import (
    RangeQuerySetWrapperWithProgressBar,
    RangeQuerySetWrapperWithProgressBarApprox,
)
from rangeqs.wrapper import RangeQuerySetWrapper

__version__ = "0.1.0"

__all__ = [
    "InvalidQuerySetError",
    "RangeQuerySetWrapper",
    "RangeQuerySetWrapperWithProgressBar",
    "RangeQuerySetWrapperWithProgressBarApprox",
]
