"""Turn ``order_by`` into the keys of a keyset and prove the ordering unique."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.db.models import CompositePrimaryKey
from django.db.models.constants import LOOKUP_SEP

from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from django.db.models import Field, Model


@dataclass(frozen=True)
class Key:
    """One column of the keyset: an attname and its direction."""

    name: str
    descending: bool
    field: Field[Any, Any]

    @property
    def nullable(self) -> bool:
        return bool(self.field.null)

    @property
    def ordering(self) -> str:
        """The ``order_by()`` argument for this key."""
        return f"-{self.name}" if self.descending else self.name

    def reversed(self) -> Key:
        return Key(self.name, not self.descending, self.field)


def resolve_keys(
    model: type[Model],
    order_by: str | Sequence[str],
    *,
    reverse: bool,
    add_tie_breaker: bool,
) -> tuple[tuple[Key, ...], int]:
    """The keys for ``order_by`` and how many pk tie-breakers were appended.

    ``"pk"`` names every field of a composite primary key. Raise
    InvalidQuerySetError when a name is not a concrete column of the model, or
    when the keys are not unique and no tie-breaker is allowed.
    """
    names = [order_by] if isinstance(order_by, str) else list(order_by)
    if not names:
        raise InvalidQuerySetError(
            "order_by is empty: pass a field name such as 'pk' or a sequence of names."
        )
    keys = [key for name in names for key in _resolve_names(model, name)]
    if reverse:
        keys = [key.reversed() for key in keys]
    seen: set[str] = set()
    for key in keys:
        if key.name in seen:
            raise InvalidQuerySetError(
                f"order_by names the column {key.name!r} twice: list each field once."
            )
        seen.add(key.name)

    if is_unique(model, [key.field for key in keys]):
        return tuple(keys), 0
    field_list = ", ".join(repr(name) for name in names)
    if not add_tie_breaker:
        raise InvalidQuerySetError(
            f"order_by ({field_list}) is not unique on {model._meta.label}, so rows "
            f"with equal keys could be skipped or repeated: add 'pk' as the last key, "
            f"or pass override_unique_safety_check=True to append it as a tie-breaker."
        )
    added = [
        Key(field.attname, keys[-1].descending, field)
        for field in pk_fields(model)
        if field.attname not in seen
    ]
    return (*keys, *added), len(added)


def pk_fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    """The primary key's columns: one, or each field of a CompositePrimaryKey."""
    pk = model._meta.pk
    assert pk is not None
    if isinstance(pk, CompositePrimaryKey):
        return cast("tuple[Field[Any, Any], ...]", tuple(pk.fields))
    return (pk,)


def _resolve_names(model: type[Model], name: str) -> list[Key]:
    if name.removeprefix("-") == "pk":
        descending = name.startswith("-")
        return [Key(field.attname, descending, field) for field in pk_fields(model)]
    return [_resolve_key(model, name)]


def _resolve_key(model: type[Model], name: str) -> Key:
    if not isinstance(name, str):
        raise InvalidQuerySetError(
            f"order_by contains {name!r}, which is not a field name: pass names "
            f"such as 'pk' or '-created'."
        )
    descending = name.startswith("-")
    bare = name.removeprefix("-")
    if LOOKUP_SEP in bare:
        raise InvalidQuerySetError(
            f"order_by {name!r} follows a relation, which keyset pagination cannot "
            f"bound with an index on {model._meta.db_table}: order by columns of "
            f"{model._meta.label} only, foreign keys by their attname (e.g. "
            f"'group_id')."
        )
    opts = model._meta
    try:
        field = opts.pk if bare == "pk" else opts.get_field(bare)
    except FieldDoesNotExist:
        raise InvalidQuerySetError(
            f"order_by {name!r} is not a field of {opts.label}: use one of its "
            f"column names or 'pk'."
        ) from None
    assert field is not None
    if not getattr(field, "concrete", False) or getattr(field, "column", None) is None:
        raise InvalidQuerySetError(
            f"order_by {name!r} is not a column of {opts.label}: order by a "
            f"concrete field such as a foreign key's attname."
        )
    # A ForeignKey named by its field name would order by the related model's
    # Meta.ordering; the attname orders by the column itself.
    column = cast("Field[Any, Any]", field)
    return Key(column.attname, descending, column)


def is_unique(model: type[Model], fields: Iterable[Field[Any, Any]]) -> bool:
    """Whether no two rows can share values for all of ``fields``.

    A nullable unique column does not count: several rows may hold NULL.
    """
    fields = list(fields)
    names = {field.name for field in fields}
    opts = model._meta
    for field in fields:
        if field.primary_key or (field.unique and not field.null):
            return True
    pk = opts.pk
    if isinstance(pk, CompositePrimaryKey) and set(pk.field_names) <= names:
        # The columns of a primary key are NOT NULL.
        return True
    # (fields, whether NULLs are distinct): with distinct NULLs, a row holding
    # NULL in any of the fields escapes the constraint.
    groups: list[tuple[tuple[str, ...], bool]] = [
        (tuple(group), True) for group in opts.unique_together
    ]
    groups.extend(
        (tuple(constraint.fields), constraint.nulls_distinct is not False)
        for constraint in opts.total_unique_constraints
    )
    return any(
        _covers(model, group, names, nulls_distinct=nulls_distinct)
        for group, nulls_distinct in groups
    )


def _covers(
    model: type[Model], group: Sequence[str], names: set[str], *, nulls_distinct: bool
) -> bool:
    if not group or not set(group) <= names:
        return False
    if not nulls_distinct:
        return True
    return not any(
        getattr(model._meta.get_field(name), "null", False) for name in group
    )
