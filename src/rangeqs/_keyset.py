"""The "strictly after this position" predicate of a keyset, and its NULL phases.

A position is the tuple of a row's key values. Inside one phase (see
:func:`split_phases`) the leading key is never NULL, so the predicate can
bound an index scan on it: a row-value comparison ``(a, b) > (x, y)`` where
the database uses one as an index bound, or else the expansion
``a >= x AND (a > x OR (a = x AND b > y))`` whose first term bounds the scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import BooleanField, Expression, F, Q, Value
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Range,
)

from rangeqs._where import where_conditions
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from rangeqs._keys import Key

# Databases whose planners treat a row-value comparison as an index bound.
_ROW_VALUE_VENDORS = frozenset({"postgresql", "sqlite"})


def nulls_first(key: Key, connection: BaseDatabaseWrapper) -> bool:
    """Whether ``ORDER BY key`` puts NULLs before every value on this database."""
    return bool(connection.features.nulls_order_largest) == key.descending


@dataclass(frozen=True)
class Phase:
    """A contiguous stretch of the key order where the NULL pattern is fixed.

    The first ``len(null_keys)`` keys are NULL for every row of the phase
    (so they are left out of its ordering); ``keys`` are the rest, and the
    first of them is NOT NULL. ``keys`` is empty only for the NULL row of a
    column unique with ``nulls_distinct=False``: one row at most.
    """

    null_keys: tuple[Key, ...]
    keys: tuple[Key, ...]

    def filters(self) -> Q:
        """Restrict a queryset to the rows of this phase."""
        condition = Q(*(Q(**{f"{key.name}__isnull": True}) for key in self.null_keys))
        if self.keys and self.keys[0].nullable:
            condition &= Q(**{f"{self.keys[0].name}__isnull": False})
        return condition

    def holds(self, position: Sequence[Any]) -> bool:
        """Whether a full-key position falls in this phase."""
        skipped = len(self.null_keys)
        leading_set = not self.keys or position[skipped] is not None
        return leading_set and all(value is None for value in position[:skipped])

    def project(self, position: Sequence[Any]) -> tuple[Any, ...]:
        """The position restricted to this phase's keys."""
        return tuple(position[len(self.null_keys) :])


def split_phases(keys: Sequence[Key], connection: BaseDatabaseWrapper) -> list[Phase]:
    """The phases of ``keys`` in the database's order.

    A nullable leading key splits the order in two: its NULL rows, then the
    rest, or the other way round. The NULL part is ordered by the remaining
    keys, which may split again.
    """
    if not keys:
        return [Phase((), ())]
    first, rest = keys[0], tuple(keys[1:])
    not_null = [Phase((), tuple(keys))]
    if not first.nullable:
        return not_null
    null = [
        Phase((first, *phase.null_keys), phase.keys)
        for phase in split_phases(rest, connection)
    ]
    return null + not_null if nulls_first(first, connection) else not_null + null


# Lookups that no NULL satisfies (exact=None is turned into isnull by Django).
_NULL_REJECTING = (
    Exact,
    In,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
    Range,
)


def columns_never_null(queryset: QuerySet[Any, Any]) -> set[str]:
    """Attnames of the model's columns that the queryset's filters keep non-NULL.

    Only conditions every row must meet count: lookups ANDed at the top of
    the WHERE clause, such as ``group_id__in=[...]`` or ``a__isnull=False``.
    """
    found: set[str] = set()
    for condition in where_conditions(queryset):
        lookup = condition.lookup
        if not condition.holds_for_every_row or lookup is None:
            continue
        assert condition.field is not None
        rejects_null = isinstance(lookup, _NULL_REJECTING) or (
            isinstance(lookup, IsNull) and lookup.rhs is False
        )
        if rejects_null:
            found.add(condition.field.attname)
    return found


def after(
    keys: Sequence[Key], position: Sequence[Any], connection: BaseDatabaseWrapper
) -> Q | Expression:
    """The condition "strictly after ``position``" in the order of ``keys``.

    ``keys[0]`` must be NOT NULL in the rows this filters and ``position[0]``
    must not be None; later keys may be NULL.
    """
    if not keys:
        return _NOTHING
    same_direction = len({key.descending for key in keys}) == 1
    any_nullable_tail = any(key.nullable for key in keys[1:])
    if (
        len(keys) > 1
        and same_direction
        and not any_nullable_tail
        and connection.vendor in _ROW_VALUE_VENDORS
    ):
        return RowAfter(keys, position)
    return _expanded_after(keys, position, connection)


def _expanded_after(
    keys: Sequence[Key], position: Sequence[Any], connection: BaseDatabaseWrapper
) -> Q:
    first, value = keys[0], position[0]
    strictly_after = _value_after(first, value)
    if len(keys) == 1:
        return strictly_after
    # ``a >= x`` repeats what the OR below implies; it is there so that the
    # planner sees a plain range on the leading column and bounds the scan.
    bound = Q(**{f"{first.name}__{'lte' if first.descending else 'gte'}": value})
    return bound & (
        strictly_after
        | (Q(**{first.name: value}) & _tail_after(keys[1:], position[1:], connection))
    )


def _tail_after(
    keys: Sequence[Key], position: Sequence[Any], connection: BaseDatabaseWrapper
) -> Q:
    """NULL-aware "after" for keys behind the leading one, which may be NULL."""
    first, value = keys[0], position[0]
    if value is None:
        equal = Q(**{f"{first.name}__isnull": True})
        # Only non-NULL values follow NULL, and only where NULLs sort first.
        beyond = (
            Q(**{f"{first.name}__isnull": False})
            if nulls_first(first, connection)
            else None
        )
    else:
        equal = Q(**{first.name: value})
        beyond = _value_after(first, value)
        if first.nullable and not nulls_first(first, connection):
            beyond |= Q(**{f"{first.name}__isnull": True})
    if len(keys) == 1:
        return beyond if beyond is not None else _NOTHING
    rest = equal & _tail_after(keys[1:], position[1:], connection)
    return rest if beyond is None else beyond | rest


def _value_after(key: Key, value: Any) -> Q:
    return Q(**{f"{key.name}__{'lt' if key.descending else 'gt'}": value})


def at_or_before(
    keys: Sequence[Key], position: Sequence[Any], connection: BaseDatabaseWrapper
) -> Q | Expression:
    """The condition "at or before ``position``" in the order of ``keys``: the
    complement of :func:`after`, with NULLs where the database orders them.

    Any key may be NULL, in the rows and in ``position``: the rows of the NULL
    phases that come before the position's phase match as a whole, those after
    it do not match at all (a walk can also leave their phases out).
    """
    phases = split_phases(keys, connection)
    last = until_phase(keys, position, connection)
    own = phases[last]
    inside = _phase_at_or_before(own.keys, own.project(position), connection)
    if not (own.null_keys or (own.keys and own.keys[0].nullable) or phases[:last]):
        return inside
    # Q() takes a row-value expression as a child, which keeps the result a Q.
    condition = Q(own.filters(), inside)
    for phase in phases[:last]:
        condition = phase.filters() | condition
    return condition


def until_phase(
    keys: Sequence[Key], position: Sequence[Any], connection: BaseDatabaseWrapper
) -> int:
    """The index, in :func:`split_phases`, of the phase holding ``position``.

    Raise InvalidQuerySetError when no phase does: the position holds NULL
    for a key that cannot be NULL.
    """
    for index, phase in enumerate(split_phases(keys, connection)):
        if phase.holds(position):
            return index
    raise InvalidQuerySetError(
        "The cursor token holds NULL for a key that cannot be NULL: pass a token "
        "made for this model's current schema."
    )


def _phase_at_or_before(
    keys: Sequence[Key], position: Sequence[Any], connection: BaseDatabaseWrapper
) -> Q | Expression:
    """Inside one phase: ``keys[0]`` is NOT NULL and so is ``position[0]``."""
    if not keys:
        # The phase's one NULL row is the position itself.
        return Q()
    same_direction = len({key.descending for key in keys}) == 1
    if (
        len(keys) > 1
        and same_direction
        and not any(key.nullable for key in keys[1:])
        and connection.vendor in _ROW_VALUE_VENDORS
    ):
        return RowAfter(keys, position, inclusive_before=True)
    first, value = keys[0], position[0]
    # ``a <= x`` bounds the scan on the leading column, as in after().
    bound = Q(**{f"{first.name}__{'gte' if first.descending else 'lte'}": value})
    if len(keys) == 1:
        return bound
    return bound & (
        _value_before(first, value)
        | (
            Q(**{first.name: value})
            & _tail_at_or_before(keys[1:], position[1:], connection)
        )
    )


def _tail_at_or_before(
    keys: Sequence[Key], position: Sequence[Any], connection: BaseDatabaseWrapper
) -> Q:
    """NULL-aware "at or before" for keys behind the leading one."""
    first, value = keys[0], position[0]
    before: Q | None
    if value is None:
        equal = Q(**{f"{first.name}__isnull": True})
        # Every value precedes NULL where NULLs sort last.
        before = (
            None
            if nulls_first(first, connection)
            else Q(**{f"{first.name}__isnull": False})
        )
    else:
        equal = Q(**{first.name: value})
        before = _value_before(first, value)
        if first.nullable and nulls_first(first, connection):
            before |= Q(**{f"{first.name}__isnull": True})
    rest = (
        equal
        if len(keys) == 1
        else equal & _tail_at_or_before(keys[1:], position[1:], connection)
    )
    return rest if before is None else before | rest


def _value_before(key: Key, value: Any) -> Q:
    return Q(**{f"{key.name}__{'gt' if key.descending else 'lt'}": value})


# A condition no row meets, for "after the last possible value".
_NOTHING = Q(pk__in=[])


class RowAfter(Expression):
    """``(a, b, ...) > (x, y, ...)``, or ``<`` for descending keys (``<=`` and
    ``>=`` for "at or before").

    Only for keys that share a direction and are NOT NULL: a row-value
    comparison with a NULL in it is unknown, never true.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(
        self,
        keys: Sequence[Key],
        position: Sequence[Any],
        *,
        inclusive_before: bool = False,
    ) -> None:
        super().__init__()
        # inclusive_before turns "after" into its complement, "at or before".
        if inclusive_before:
            self.operator = ">=" if keys[0].descending else "<="
        else:
            self.operator = "<" if keys[0].descending else ">"
        self.columns: list[Any] = [F(key.name) for key in keys]
        self.values: list[Any] = [
            Value(value, output_field=key.field)
            for key, value in zip(keys, position, strict=True)
        ]

    def get_source_expressions(self) -> list[Any]:
        return [*self.columns, *self.values]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        half = len(exprs) // 2
        self.columns, self.values = list(exprs[:half]), list(exprs[half:])

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        template: str | None = None,
        **extra_context: Any,
    ) -> _AsSqlType:
        column_sql, column_params = self._compile_all(compiler, self.columns)
        value_sql, value_params = self._compile_all(compiler, self.values)
        sql = f"({', '.join(column_sql)}) {self.operator} ({', '.join(value_sql)})"
        return sql, (*column_params, *value_params)

    @staticmethod
    def _compile_all(
        compiler: SQLCompiler, expressions: Sequence[Any]
    ) -> tuple[list[str], list[Any]]:
        sqls: list[str] = []
        params: list[Any] = []
        for expression in expressions:
            sql, expression_params = compiler.compile(expression)
            sqls.append(sql)
            params.extend(expression_params)
        return sqls, params
