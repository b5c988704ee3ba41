"""The wrapper with a tqdm progress bar (``pip install rangeqs[progress]``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import connections

from rangeqs.wrapper import RangeQuerySetWrapper, _Row

if TYPE_CHECKING:
    from collections.abc import Iterator


class RangeQuerySetWrapperWithProgressBar(RangeQuerySetWrapper[_Row]):
    """:class:`~rangeqs.RangeQuerySetWrapper` that shows a tqdm bar.

    The total comes from ``queryset.count()``: exact, but one full count
    query before the first page.
    """

    def total(self) -> int | None:
        """The number of rows the bar expects."""
        self.queries += 1
        total = self._base.count()
        return total if self.limit is None else min(total, self.limit)

    def __iter__(self) -> Iterator[_Row]:
        tqdm = _import_tqdm()
        opts = self.queryset.model._meta
        label = str(opts.verbose_name_plural or opts.model_name).title()
        with tqdm(total=self.total(), desc=label, unit="row") as bar:
            for row in super().__iter__():
                yield row
                bar.update(1)


class RangeQuerySetWrapperWithProgressBarApprox(
    RangeQuerySetWrapperWithProgressBar[_Row]
):
    """:class:`RangeQuerySetWrapperWithProgressBar` with an estimated total.

    For tables too large to count: PostgreSQL's row estimate for the
    filtered query (from ``EXPLAIN``), MariaDB/MySQL's table statistics
    (the whole table, filters ignored). SQLite keeps no estimate: the bar
    then counts without a total.
    """

    def total(self) -> int | None:
        connection = connections[self.queryset.db]
        if connection.vendor == "postgresql":
            self.queries += 1
            plan = json.loads(self._base.explain(format="json"))
            estimate = int(plan[0]["Plan"]["Plan Rows"])
        elif connection.vendor == "mysql":
            self.queries += 1
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT table_rows FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name = %s",
                    [self.queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            estimate = int(row[0] or 0) if row else 0
        else:
            return self.limit
        return estimate if self.limit is None else min(estimate, self.limit)


def _import_tqdm() -> Any:
    try:
        # tqdm is an optional extra: only the progress-bar wrappers need it.
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:
        raise ImportError(
            "The progress-bar wrappers need tqdm: install rangeqs[progress]."
        ) from None
    return tqdm
