"""The one place where rangeqs uses Django's private API (issue 12).

Two modules, one per moment a queryset's internals are read:

- :mod:`rangeqs._django.query`: the analysis of a queryset's shape before
  any page (its filters, slice, ordering, joins, GROUP BY, row locks), with
  its self-check and a conservative public-API fallback. In the foundations
  layer: ``_where`` and ``_validate`` build on it.
- :mod:`rangeqs._django.pages`: compiled pages (compilers, the iterable
  classes), with their self-check and the fallback of ordinary querysets.

Each module's docstring is its contract. The names of the page seam are
re-exported here, where the page code has always imported them.
"""

from __future__ import annotations

from rangeqs._django.pages import (
    KeyColumns,
    Placeholder,
    binds_on_the_client,
    compile_statement,
    compiled_pages,
    constants_written_in,
    defers_nothing,
    empty_compiler,
    fetch_compiled,
    high_mark,
    iterable_class,
    make_rows,
    prefetch_lookups,
    self_check,
    self_check_fails,
    with_tuple_rows,
)
from rangeqs._django.query import TESTED_DJANGO

__all__ = [
    "TESTED_DJANGO",
    "KeyColumns",
    "Placeholder",
    "binds_on_the_client",
    "compile_statement",
    "compiled_pages",
    "constants_written_in",
    "defers_nothing",
    "empty_compiler",
    "fetch_compiled",
    "high_mark",
    "iterable_class",
    "make_rows",
    "prefetch_lookups",
    "self_check",
    "self_check_fails",
    "with_tuple_rows",
]
