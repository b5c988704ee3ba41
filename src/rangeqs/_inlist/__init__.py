"""IN lists of any length, sent as one parameter, and the plans' view of them.

Three modules, one job each:

- :mod:`rangeqs._inlist.lookup`: :class:`InValues`, the lookup that renders
  a list as one parameter per database;
- :mod:`rangeqs._inlist.conditions`: finding and replacing the IN lists of
  a queryset's WHERE tree;
- :mod:`rangeqs._inlist.value_order`: the queries that put the listed values
  in the column's order (the partition and merge plans on SQLite and MariaDB).

The names the plans use are re-exported here.
"""

from __future__ import annotations

from rangeqs._inlist.conditions import (
    in_list_condition,
    inexact_in_list,
    refuse_inexact_in_list,
    replace_condition,
    rewrite_in_lists,
)
from rangeqs._inlist.lookup import (
    LONG_LIST,
    MARIADB_LITERAL_LIST,
    InValues,
    count_values_through,
    in_values,
    sorted_values,
    values_after,
)

__all__ = [
    "LONG_LIST",
    "MARIADB_LITERAL_LIST",
    "InValues",
    "count_values_through",
    "in_list_condition",
    "in_values",
    "inexact_in_list",
    "refuse_inexact_in_list",
    "replace_condition",
    "rewrite_in_lists",
    "sorted_values",
    "values_after",
]
