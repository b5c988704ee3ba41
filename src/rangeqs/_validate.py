"""Every check the wrapper makes at construction, before it runs any query.

Arguments are checked by type and range, and the queryset by shape: what
keyset pages cannot evaluate exactly as Django would (an offset, an ordering
of its own, DISTINCT, set operations, GROUP BY that merges rows, window
functions, joins that repeat a row once per related match, ``reverse()``) is
refused with one sentence that names the problem and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import django
from django.db.models import (
    CompositePrimaryKey,
    ForeignObjectRel,
    Manager,
    ManyToManyField,
    ManyToManyRel,
    QuerySet,
)
from django.db.models.query import RawQuerySet

from rangeqs._django.query import private_analysis, shape, sql_shape
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.models import Model

    from rangeqs._django.query import QueryShape, SqlShape

__all__ = ["check_arguments"]


def check_arguments(
    queryset: object,
    *,
    step: object,
    limit: object,
    min_id: object,
    order_by: object,
    use_compound_keyset_pagination: object,
    callbacks: object,
    result_value_getter: object,
    override_unique_safety_check: object,
    query_timeout_retries: object,
    retry_delay_seconds: object,
    after: object,
    check_index: object,
) -> tuple[QuerySet[Any, Any], tuple[Callable[[list[Any]], object], ...]]:
    """The queryset to iterate (a Manager's ``all()``) and the callbacks as a
    tuple; raise InvalidQuerySetError for the first argument that is wrong."""
    checked = _as_queryset(queryset)
    _check_step(step)
    _check_count(
        "limit", limit, fix="the number of rows to yield, or None for all of them"
    )
    _check_order_by(order_by)
    _check_flag("use_compound_keyset_pagination", use_compound_keyset_pagination)
    _check_flag("override_unique_safety_check", override_unique_safety_check)
    _check_min_id(
        checked.model,
        min_id,
        order_by,  # type: ignore[arg-type]
        compound=bool(use_compound_keyset_pagination),
    )
    checked_callbacks = _check_callbacks(callbacks)
    if result_value_getter is not None and not callable(result_value_getter):
        raise InvalidQuerySetError(
            f"result_value_getter={result_value_getter!r} is not callable: pass a "
            f"function of a row that returns its key value, or None."
        )
    _check_count(
        "query_timeout_retries",
        query_timeout_retries,
        fix="how many times to retry a page, or None for no retries",
    )
    if (
        isinstance(retry_delay_seconds, bool)
        or not isinstance(retry_delay_seconds, (int, float))
        or not retry_delay_seconds >= 0
    ):
        raise InvalidQuerySetError(
            f"retry_delay_seconds={retry_delay_seconds!r} is not a delay: pass a "
            f"number of seconds, 0 or more."
        )
    if after is not None and not isinstance(after, str):
        raise InvalidQuerySetError(
            f"after={after!r} is not a cursor token: pass the str read from "
            f"wrapper.cursor, or None."
        )
    if not (check_index is True or check_index is False or check_index == "error"):
        raise InvalidQuerySetError(
            f"check_index={check_index!r} is not an option: pass True, False or "
            f'"error".'
        )
    check_queryset(checked)
    return checked, checked_callbacks


def _as_queryset(queryset: object) -> QuerySet[Any, Any]:
    if isinstance(queryset, Manager):
        # As Django's own shortcuts (get_object_or_404) take a manager.
        return queryset.all()
    if isinstance(queryset, QuerySet):
        return queryset
    if isinstance(queryset, RawQuerySet):
        raise InvalidQuerySetError(
            "The queryset is a RawQuerySet, whose SQL the wrapper cannot add a "
            "keyset bound to: build a QuerySet with filter() (or extra(where=...)) "
            "instead of raw()."
        )
    raise InvalidQuerySetError(
        f"queryset is a {type(queryset).__name__}, not a QuerySet: pass "
        f"Model.objects.filter(...) (or a Manager), not rows already fetched."
    )


def _check_step(step: object) -> None:
    if isinstance(step, bool) or not isinstance(step, int) or step == 0:
        raise InvalidQuerySetError(
            f"step={step!r} is not a page size: pass a positive int, or a "
            f"negative one to iterate in descending order."
        )


def _check_count(name: str, value: object, *, fix: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidQuerySetError(f"{name}={value!r} is not an int: pass {fix}.")
    if value < 0:
        raise InvalidQuerySetError(f"{name}={value} is negative: pass {fix}.")


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidQuerySetError(
            f"{name}={value!r} is not a bool: pass True or False."
        )


def _check_order_by(order_by: object) -> None:
    if isinstance(order_by, str):
        return
    if not isinstance(order_by, Sequence):
        raise InvalidQuerySetError(
            f"order_by={order_by!r} is not a field name: pass a name such as 'pk' "
            f"or '-created', or a list or tuple of names for a compound key."
        )
    for name in order_by:
        if not isinstance(name, str):
            raise InvalidQuerySetError(
                f"order_by contains {name!r}, which is not a field name: pass "
                f"names such as 'pk' or '-created'."
            )


def _check_min_id(
    model: type[Model], min_id: object, order_by: str | Sequence[str], *, compound: bool
) -> None:
    if min_id is None:
        return
    names = [order_by] if isinstance(order_by, str) else list(order_by)
    pk = model._meta.pk
    pk_width = len(pk.field_names) if isinstance(pk, CompositePrimaryKey) else 1
    keys = sum(pk_width if name.removeprefix("-") == "pk" else 1 for name in names)
    if compound or keys > 1:
        # Sentry's words first: code written against its wrapper matches them.
        raise InvalidQuerySetError(
            "min_id is not supported with compound keyset pagination (several "
            "order_by keys, or use_compound_keyset_pagination=True): pass after= "
            "with a cursor token to start inside a compound order."
        )


def _check_callbacks(callbacks: object) -> tuple[Callable[[list[Any]], object], ...]:
    if (
        callable(callbacks)
        or not isinstance(callbacks, Iterable)
        or (isinstance(callbacks, (str, bytes)))
    ):
        raise InvalidQuerySetError(
            f"callbacks={callbacks!r} is not a list of functions: pass a list "
            f"such as callbacks=[record_batch], or () for none."
        )
    checked = tuple(callbacks)
    for callback in checked:
        if not callable(callback):
            raise InvalidQuerySetError(
                f"callbacks contains {callback!r}, which is not callable: pass "
                f"functions that take a batch (a list of rows)."
            )
    return checked


def check_queryset(queryset: QuerySet[Any, Any]) -> None:
    """Refuse a queryset whose rows keyset pages would not reproduce exactly."""
    if private_analysis():
        _check_shape(queryset.model, shape(queryset))
    else:
        _check_sql_shape(sql_shape(queryset))


def _check_shape(model: type[Model], found: QueryShape) -> None:
    if found.offset:
        raise InvalidQuerySetError(
            f"The queryset is sliced from offset {found.offset}, which keyset "
            f"pagination does not use: remove the offset and start with min_id= "
            f"or after=."
        )
    if found.explicitly_ordered:
        raise InvalidQuerySetError(_ORDERED)
    if found.reversed:
        # Django would flip every page's ORDER BY but not its "after" bound.
        raise InvalidQuerySetError(_REVERSED)
    if found.distinct:
        raise InvalidQuerySetError(
            "The queryset uses distinct(), whose rows have no keys to page by: "
            "remove distinct() and filter the rows with __in on a subquery instead."
        )
    if found.combinator:
        raise InvalidQuerySetError(
            f"The queryset is a {found.combinator}() of querysets, which cannot be "
            f"paged by keys: iterate each queryset with its own wrapper."
        )
    if found.grouped and not found.one_group_per_row:
        raise InvalidQuerySetError(
            "The queryset has GROUP BY (an aggregate such as Count() in annotate(), "
            "or values().annotate()), and adding the keys to it would split its "
            "groups: iterate the grouped model's rows and compute the aggregate "
            "with a Subquery() annotation, or aggregate each batch yourself."
        )
    if found.window:
        raise InvalidQuerySetError(
            "The queryset has a window expression (Window(), e.g. RowNumber()), "
            "which each page would compute over its own rows only: compute it "
            "over the whole queryset in a Subquery() or outside the wrapper."
        )
    if found.extra_tables:
        raise InvalidQuerySetError(
            f"The queryset adds the tables {', '.join(found.extra_tables)} with "
            f"extra(tables=...), which repeats a row once per row of theirs: "
            f"filter with pk__in= a subquery instead."
        )
    # Grouped by the model's rows, a join's repeats are aggregated, not
    # yielded: the rows are the model's, once each, whatever the step.
    if found.multi_valued_relation is not None and not found.grouped:
        name, subquery = _describe(model, found.multi_valued_relation)
        raise InvalidQuerySetError(
            f"The queryset joins the multi-valued relation {name!r}, which repeats "
            f"a row once per related match and makes the rows depend on step: "
            f"filter with pk__in={subquery} instead (exclude() already does so)."
        )


_ORDERED = (
    "The queryset has an explicit ordering, which the wrapper replaces with "
    "its keys: remove order_by() or extra(order_by=...) and pass order_by= "
    "to the wrapper instead."
)
_REVERSED = (
    "The queryset is reversed with reverse(), which the wrapper's keys "
    "replace: remove reverse() and pass a negative step, or '-name' keys "
    "in order_by."
)


def _check_sql_shape(found: SqlShape) -> None:
    """The fallback's checks (public API only): whatever the SQL text cannot
    show to be one row per row of the model is refused."""
    release = django.get_version()
    if found.sliced:
        raise InvalidQuerySetError(
            f"The queryset is sliced, and rangeqs cannot read or remove a slice "
            f"on Django {release} (its query internals differ from the releases "
            f"rangeqs was checked on): remove the slice and pass limit= instead."
        )
    if found.combined:
        raise InvalidQuerySetError(
            "The queryset is a set operation (union(), intersection() or "
            "difference()) of querysets, which cannot be paged by keys: iterate "
            "each queryset with its own wrapper."
        )
    if found.shows is not None:
        raise InvalidQuerySetError(
            f"The queryset's SQL shows {found.shows}, and on Django {release} "
            f"rangeqs cannot read the query's internals (they differ from the "
            f"releases it was checked on) to tell whether each row comes once: "
            f"filter the model's own columns (pk__in= a subquery for a relation) "
            f"without distinct(), aggregates, set operations or window "
            f"expressions."
        )
    if found.explicitly_ordered:
        raise InvalidQuerySetError(_ORDERED)
    if found.reversed:
        raise InvalidQuerySetError(_REVERSED)


def _describe(model: type[Model], rel: ForeignObjectRel) -> tuple[str, str]:
    through = rel.field.model
    if through._meta.auto_created:
        # The first join of a many-to-many is into its hidden through table:
        # name the many-to-many field the filter followed.
        for field in model._meta.get_fields():
            if isinstance(field, ManyToManyField) and (
                field.remote_field.through is through
            ):
                other = field.related_model
                back = field.related_query_name()
                return field.name, _subquery(other, back)
            if isinstance(field, ManyToManyRel) and field.through is through:
                return field.name, _subquery(field.related_model, field.field.name)
    return rel.field.related_query_name(), _subquery(
        rel.related_model, rel.field.attname
    )


def _subquery(model: Any, column: str) -> str:
    name = getattr(model, "__name__", "Related")
    return f"{name}.objects.filter(...).values({column!r})"
