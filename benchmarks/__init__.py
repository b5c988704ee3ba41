"""Speed benchmarks for rangeqs, run on PostgreSQL: ``python -m benchmarks --help``.

``core`` measures the wrapper's own goals (issue 2), ``inlist`` the IN-list
plans (issue 4). Both generate their data inside the database, print tables
with ratios against a baseline measured in the same run, and drop their tables
at the end.
"""

from __future__ import annotations
