"""The index to add when none serves: equality columns, then the keyset columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.migrations.writer import MigrationWriter

from rangeqs._index_rules import pins_order
from rangeqs.operations import AddIndexNonBlocking

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import Model, Q

    from rangeqs._declared_indexes import ModelIndex
    from rangeqs._keys import Key
    from rangeqs._where import Condition

__all__ = ["Recommendation", "recommend"]

# Django refuses longer index names in Meta.indexes (check models.E034).
_MAX_INDEX_NAME = 30


@dataclass(frozen=True)
class Recommendation:
    """An index that would serve the keyset order under the filters."""

    model: type[Model]
    #: ``Index(fields=...)``: field names, ``-`` for a descending column.
    fields: tuple[str, ...]
    name: str
    #: The condition of a partial index (PostgreSQL, for ``IS NULL`` filters).
    condition: Q | None = None

    def index(self) -> models.Index:
        return models.Index(
            fields=list(self.fields), name=self.name, condition=self.condition
        )

    def operation(self) -> AddIndexNonBlocking:
        return AddIndexNonBlocking(
            model_name=str(self.model._meta.model_name), index=self.index()
        )

    def operation_source(self) -> str:
        """The migration operation as Python source (imports not included)."""
        source, _ = MigrationWriter.serialize(self.operation())
        return source.removeprefix("rangeqs.operations.")


def recommend(
    model: type[Model],
    conditions: Sequence[Condition],
    keys: Sequence[Key],
    existing: Sequence[ModelIndex],
    *,
    vendor: str,
    selectivity: dict[str, float] | None = None,
) -> Recommendation | None:
    """The index to add, or None when it would duplicate or be covered by one.

    ``selectivity`` (distinct values per column name, from the database's
    statistics) puts the most selective equality column first; without it the
    equality columns keep the order of the filters.
    """
    opts = model._meta
    key_names = {key.name for key in keys}
    equality: list[Any] = []
    partial: list[models.Q] = []
    for condition in conditions:
        field = condition.field
        if field is None:
            continue
        if pins_order(condition, vendor):
            if field not in equality:
                equality.append(field)
        elif condition.fixes_value and field.attname not in key_names:
            # IS NULL, which PostgreSQL does not take as fixing the column.
            partial.append(models.Q(**{f"{field.name}__isnull": True}))
    if selectivity:
        # Stable: columns without statistics keep their filter order, last.
        equality.sort(key=lambda f: -selectivity.get(f.column, 0.0))
    fixed = {c.field.attname for c in conditions if c.fixes_value and c.field}
    open_keys = [key for key in keys if key.name not in fixed]
    # A backward scan serves the reversed order: keep the first key ascending.
    flip = bool(open_keys) and open_keys[0].descending
    columns: list[tuple[str, bool]] = [(f.attname, False) for f in equality]
    columns += [(key.name, key.descending != flip) for key in open_keys]
    where = _all_of(partial)
    bounding = {c.field.attname for c in conditions if c.can_bound_index and c.field}
    narrowed = bool(equality) or where is not None
    narrowed = narrowed or (bool(open_keys) and open_keys[0].name in bounding)
    if conditions and not narrowed:
        # Only IN lists, ranges or unusable filters off the keys: an index led
        # by them breaks the order, one led by the keys ignores them.
        return None
    if not columns or any(_covers(index, columns, where) for index in existing):
        return None
    fields = tuple(
        ("-" if descending else "") + opts.get_field(attname).name
        for attname, descending in columns
    )
    return Recommendation(
        model=model,
        fields=fields,
        name=_index_name(model, fields, partial=where is not None),
        condition=where,
    )


def _all_of(conditions: Sequence[models.Q]) -> models.Q | None:
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined &= condition
    return combined


def _covers(
    index: ModelIndex,
    columns: Sequence[tuple[str, bool]],
    condition: models.Q | None,
) -> bool:
    if index.expression or index.condition != condition:
        return False
    head = index.columns[: len(columns)]
    if len(head) < len(columns) or any(c.opclass for c in head):
        return False
    if [c.attname for c in head] != [name for name, _ in columns]:
        return False
    relations = {
        c.descending != descending
        for c, (_, descending) in zip(head, columns, strict=True)
    }
    return len(relations) == 1


def _index_name(model: type[Model], fields: Sequence[str], *, partial: bool) -> str:
    names = "_".join(name.removeprefix("-") for name in fields)
    readable = f"{model._meta.db_table}_{names}_{'partial_' if partial else ''}idx"
    if len(readable) <= _MAX_INDEX_NAME:
        return readable
    index = models.Index(fields=list(fields))
    index.set_name_with_model(model)
    return index.name
