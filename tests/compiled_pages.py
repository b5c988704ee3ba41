"""Which page path the suite runs on (``RANGEQS_TEST_COMPILED_PAGES``).

The suite runs twice in CI: on compiled pages and on rangeqs._django's
fallback of ordinary querysets. A test that can only hold on one path says
so with :data:`compiled_only`; a count that differs says how with
:func:`merge_page_statements`.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

COMPILED_PAGES: bool = settings.RANGEQS_COMPILED_PAGES

#: For tests that observe the compiled statement itself.
compiled_only = pytest.mark.skipif(
    not COMPILED_PAGES, reason="observes the compiled page statement"
)


def merge_page_statements(branches: int) -> int:
    """Statements of one merge page with rows: one compiled; on the
    fallback, the branches' primary keys (one UNION ALL, or one statement
    per branch on SQLite), then the rows."""
    if COMPILED_PAGES or branches == 1:
        return 1
    if connection.features.supports_slicing_ordering_in_compound:
        return 2
    return branches + 1
