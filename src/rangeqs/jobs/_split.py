"""Split a keyset walk into disjoint ranges of roughly equal rows, from the index.

Each range is a pair of cursor tokens (``after``, ``until``) of the kind
``RangeQuerySetWrapper.cursor`` makes. Boundaries are real rows: the last row
of a stretch of the leading key, found by one ``ORDER BY keys DESC LIMIT 1``
query bounded by that key (O(log n) index reads on an index that leads with
the keys). Because each range starts strictly after the previous one's last
row and the first and last are open, the ranges cover the walk and are
disjoint however good the stretches were; the stretches only decide how even
the ranges are.

How the stretches are cut:

- PostgreSQL, a queryset without filters, a table with statistics
  (ANALYZE): at quantiles of ``pg_stats.histogram_bounds`` of the leading
  key, any type. Equal rows even on skewed data, and no index read for the
  cuts.
- numbers, dates, datetimes otherwise: equal widths between the leading
  key's smallest and largest value (two index reads). Even on uniform data;
  skewed data gives ranges of uneven rows but the same coverage.
- any other type (text, UUID, booleans): a strided walk with ``OFFSET`` over
  the leading key only, which reads that key's index entries once.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import Q

from rangeqs import _cursor
from rangeqs._django import query
from rangeqs._keys import resolve_keys
from rangeqs._keyset import columns_never_null, split_phases
from rangeqs.exceptions import InvalidQuerySetError
from rangeqs.wrapper import RangeQuerySetWrapper

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key

__all__ = ["KeyRange", "split"]

_INTERPOLATED_TYPES = (int, float, decimal.Decimal, datetime.date)


@dataclass(frozen=True)
class KeyRange:
    """One range of a split walk.

    ``after`` and ``until`` are cursor tokens for
    ``RangeQuerySetWrapper(after=..., until=...)``; None for the open start
    of the first range and the open end of the last. ``estimated_rows`` is
    the database's estimate (a count on SQLite, which keeps none).
    """

    after: str | None
    until: str | None
    estimated_rows: int


def split(
    queryset: QuerySet[Any, Any],
    *,
    order_by: str | Sequence[str] = "pk",
    parts: int,
    override_unique_safety_check: bool = False,
) -> list[KeyRange]:
    """Split the walk of ``queryset`` in ``order_by`` into at most ``parts`` ranges.

    Wrappers over the ranges, made with the same ``order_by`` (and
    ``override_unique_safety_check``), yield every row of the queryset once
    between them, in key order. An empty queryset gives no range, and
    ``parts=1`` one open range. Where the leading key is nullable its NULL
    rows are a range of their own.
    """
    parts_value: object = parts
    if isinstance(parts_value, bool) or not isinstance(parts_value, int) or parts < 1:
        raise InvalidQuerySetError(
            f"parts={parts!r} is not a number of ranges: pass a positive int."
        )
    if query.slice_stop(queryset) is not None:
        raise InvalidQuerySetError(
            "The queryset is sliced, and a limit cannot be shared between ranges: "
            "remove the slice and pass limit= to each range's wrapper instead."
        )
    # The wrapper validates the queryset and the ordering, and names the keys
    # (tie-breaker included) its tokens are bound to.
    probe = RangeQuerySetWrapper(
        queryset,
        order_by=order_by,
        override_unique_safety_check=override_unique_safety_check,
    )
    model = queryset.model
    keys, _ = resolve_keys(model, probe.order_by, reverse=False, add_tie_breaker=False)
    salt = _cursor.salt(model._meta.label, probe.order_by)
    base = queryset.order_by()
    connection = connections[queryset.db]

    never_null = columns_never_null(base.all())
    phases = [
        phase
        for phase in split_phases(keys, connection)
        if not any(key.name in never_null for key in phase.null_keys)
    ]
    if parts == 1:
        if not base.exists():
            return []
        return [KeyRange(None, None, _estimate_rows(base))]

    # A NULL phase without rows takes no part from the others.
    phases = [
        phase
        for phase in phases
        if not phase.null_keys or base.filter(phase.filters()).exists()
    ]
    null_phases = sum(1 for phase in phases if phase.null_keys)
    stretches: list[Q] = []
    for phase in phases:
        rows = base.filter(phase.filters())
        if phase.null_keys:
            stretches.append(phase.filters())
            continue
        lead = phase.keys[0]
        wanted = max(1, parts - null_phases)
        cuts = None
        if not query.has_filters(queryset):
            # The statistics describe the whole table, not a filtered part.
            cuts = _histogram_cuts(rows, lead, wanted)
        if cuts is None:
            cuts = _cuts(rows, lead, wanted)
        pieces = _between(lead, cuts)
        if lead.descending:
            pieces.reverse()
        stretches.extend(phase.filters() & piece for piece in pieces)

    ends: list[tuple[tuple[Any, ...], int]] = []
    for stretch in stretches:
        rows = base.filter(stretch)
        last = _last_position(rows, keys)
        if last is not None:
            ends.append((last, _estimate_rows(rows)))
    # Nested NULL phases can outnumber the parts: join the smallest neighbours.
    while len(ends) > parts:
        index = min(range(len(ends) - 1), key=lambda i: ends[i][1] + ends[i + 1][1])
        ends[index : index + 2] = [
            (ends[index + 1][0], ends[index][1] + ends[index + 1][1])
        ]
    ranges: list[KeyRange] = []
    after: str | None = None
    for index, (position, estimate) in enumerate(ends):
        until = None if index == len(ends) - 1 else _cursor.encode(position, salt=salt)
        ranges.append(KeyRange(after, until, estimate))
        after = until
    return ranges


def _cuts(rows: QuerySet[Any, Any], lead: Key, parts: int) -> list[Any]:
    """Up to ``parts - 1`` ascending values of ``lead`` that cut ``rows``."""
    if parts <= 1:
        return []
    ascending = rows.order_by(lead.name).values_list(lead.name, flat=True)
    low = ascending.first()
    if low is None:
        return []
    if isinstance(low, _INTERPOLATED_TYPES) and not isinstance(low, bool):
        high = rows.order_by(f"-{lead.name}").values_list(lead.name, flat=True)[0]
        return _interpolate(low, high, parts)
    count = rows.count()
    cuts: list[Any] = []
    for index in range(1, parts):
        offset = count * index // parts
        value = ascending[offset]
        if offset and (not cuts or value != cuts[-1]) and value != low:
            cuts.append(value)
    return cuts


def _histogram_cuts(
    rows: QuerySet[Any, Any], lead: Key, parts: int
) -> list[Any] | None:
    """Quantiles of PostgreSQL's histogram of ``lead`` (``pg_stats``, kept by
    ANALYZE): cuts of equal rows, even on skewed data, from no index read at
    all. None where there is no such histogram."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql" or parts <= 1:
        return None
    field = lead.field
    column_type = field.db_type(connection)
    if column_type is None:
        return None
    # The bounds are an anyarray: through text to an array of the column's type.
    array_type = f"{column_type}[]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT unnest(histogram_bounds::text::{array_type}) FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = %s AND attname = %s",
            [rows.model._meta.db_table, field.column],
        )
        bounds = [row[0] for row in cursor.fetchall()]
    if len(bounds) < 2:
        return None
    cuts: list[Any] = []
    for index in range(1, parts):
        value = bounds[round(index * (len(bounds) - 1) / parts)]
        if value != bounds[0] and (not cuts or value != cuts[-1]):
            cuts.append(value)
    return cuts


def _interpolate(low: Any, high: Any, parts: int) -> list[Any]:
    """Values dividing ``[low, high]`` into ``parts`` equal widths, ascending."""
    cuts: list[Any] = []
    for index in range(1, parts):
        if isinstance(low, int):
            value: Any = low + (high - low + 1) * index // parts
        elif isinstance(low, datetime.date) and not isinstance(low, datetime.datetime):
            value = low + datetime.timedelta(days=(high - low).days * index // parts)
        else:
            value = low + (high - low) * index / parts
        if value > low and value <= high and (not cuts or value > cuts[-1]):
            cuts.append(value)
    return cuts


def _between(lead: Key, cuts: Sequence[Any]) -> list[Q]:
    """Conditions for the stretches below, between and above ``cuts``."""
    if not cuts:
        return [Q()]
    name = lead.name
    pieces = [Q(**{f"{name}__lt": cuts[0]})]
    pieces.extend(
        Q(**{f"{name}__gte": low, f"{name}__lt": high})
        for low, high in itertools.pairwise(cuts)
    )
    pieces.append(Q(**{f"{name}__gte": cuts[-1]}))
    return pieces


def _last_position(
    rows: QuerySet[Any, Any], keys: Sequence[Key]
) -> tuple[Any, ...] | None:
    """The keys of the last row in key order: the order reversed, one row.

    A reversed ``ORDER BY`` reverses where the database puts NULLs too, so
    this is the last row of the wrapper's order on every backend.
    """
    reversed_order = [key.reversed().ordering for key in keys]
    found = rows.order_by(*reversed_order).values_list(*(key.name for key in keys))[:1]
    for position in found:
        return tuple(position)
    return None


def _estimate_rows(rows: QuerySet[Any, Any]) -> int:
    """The database's estimate of the rows of ``rows``, from EXPLAIN.

    SQLite keeps no row estimate that EXPLAIN shows: there it is a count.
    """
    connection = connections[rows.db]
    plain = rows.order_by().values_list("pk")
    prefix = {"postgresql": "EXPLAIN (FORMAT JSON) ", "mysql": "EXPLAIN FORMAT=JSON "}
    compiled = query.statement(plain)
    if connection.vendor not in prefix or compiled is None:
        return plain.count()
    sql, params = compiled
    with connection.cursor() as cursor:
        cursor.execute(prefix[connection.vendor] + sql, params)
        (text,) = cursor.fetchone()
    if connection.vendor == "postgresql":
        plan = text if isinstance(text, list) else json.loads(text)
        return int(plan[0]["Plan"]["Plan Rows"])
    found = re.search(r'"rows":\s*(\d+)', text)
    return int(found.group(1)) if found else 0
