"""advise(): the static verdict for a queryset and a keyset order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import django
from django.db import connections
from django.db.models import QuerySet

from rangeqs._index_rules import judge
from rangeqs._keys import resolve_keys
from rangeqs._warnings import _warned, warn_once_for
from rangeqs._where import filters_readable, where_conditions
from rangeqs.advisor._indexes import model_indexes
from rangeqs.advisor._recommend import recommend
from rangeqs.advisor._report import Report
from rangeqs.advisor._rules import reason, ways_out
from rangeqs.advisor._statistics import distinct_values
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rangeqs._index_rules import IndexFit
    from rangeqs._keys import Key
    from rangeqs._where import Condition
    from rangeqs.advisor._recommend import Recommendation

__all__ = ["advise", "check_index"]

# The registry, under the name the tests of earlier releases cleared.
_logged_reports = _warned


def warn_once(report: Report) -> None:
    """Log ``report`` as a warning on logger "rangeqs", once per process and
    shape (see :mod:`rangeqs._warnings`)."""
    warn_once_for(report._warning_key, lambda: str(report))


def advise(
    target: Any,
    *,
    order_by: str | Sequence[str] | None = None,
    using: str | None = None,
    statistics: bool = False,
) -> Report:
    """Check whether one index of the model serves a keyset walk over ``target``.

    ``target`` is a queryset (then ``order_by`` is required) or a
    ``RangeQuerySetWrapper`` (its queryset and order are used). ``using``
    names the database whose rules apply (default: the queryset's).

    Static: no query runs, unless ``statistics=True``, which reads the
    planner's statistics once to put the most selective equality column first
    in a recommendation. ``report.verify()`` asks the live planner.
    """
    queryset, order_by = _queryset_and_order(target, order_by)
    model = queryset.model
    keys, _ = resolve_keys(model, order_by, reverse=False, add_tie_breaker=True)
    using = using or queryset.db
    connection = connections[using]
    if not filters_readable():
        return _unread_filters(queryset, keys)
    conditions = where_conditions(queryset)
    bounding = [c for c in conditions if c.can_bound_index]
    indexes = model_indexes(model, connection)
    vendor = connection.vendor
    verdict = judge(model, conditions, keys, indexes, vendor=vendor)
    fits, best, served = verdict.fits, verdict.best, verdict.served
    filter_columns = _filter_columns(model, conditions)
    used = set() if best is None else {*best.bounded_by, *(k.name for k in keys)}
    residual = tuple(column for column in filter_columns if column not in used)
    reasons = _reasons(
        fits, best, served=served, keys=keys, conditions=conditions, residual=residual
    )
    recommendation = None
    if not served:
        selectivity = None
        if statistics:
            columns = [str(c.field.column) for c in bounding if c.field is not None]
            selectivity = distinct_values(model, columns, using=using)
        recommendation = recommend(
            model, conditions, keys, indexes, vendor=vendor, selectivity=selectivity
        )
    if recommendation is not None:
        reasons.extend(_unindexed_filter_reasons(recommendation, conditions, keys))
    return Report(
        served=served,
        index_name=None if best is None else best.index.name,
        needs_sort=verdict.needs_sort,
        full_scan=verdict.full_scan,
        residual_filters=residual,
        reasons=reasons,
        recommendation=recommendation,
        model_label=model._meta.label,
        order_by=tuple(key.ordering for key in keys),
        _queryset=queryset,
        _keys=keys,
        _warning_key=verdict.warning_key(model, keys),
    )


_UNREAD_FILTERS = (
    "rangeqs cannot read the queryset's filters on Django {release} (its "
    "query internals differ from the releases rangeqs was checked on), so it "
    "cannot tell which index serves them: ask the database with "
    "report.verify()."
)


def _unread_filters(queryset: QuerySet[Any], keys: Sequence[Key]) -> Report:
    """The report where the filters cannot be read: no verdict to give."""
    model = queryset.model
    order_by = tuple(key.ordering for key in keys)
    return Report(
        served=False,
        index_name=None,
        needs_sort=False,
        full_scan=False,
        residual_filters=(),
        reasons=[_UNREAD_FILTERS.format(release=django.get_version())],
        recommendation=None,
        model_label=model._meta.label,
        order_by=order_by,
        _queryset=queryset,
        _keys=tuple(keys),
        _warning_key=("unread filters", model._meta.label, order_by),
    )


def check_index(
    queryset: QuerySet[Any],
    *,
    order_by: Sequence[str],
    mode: Literal[True, "error"],
    verify: bool = False,
) -> None:
    """Warn on logger "rangeqs" (mode=True) or raise InvalidQuerySetError
    (mode="error") when no index serves ``order_by`` under the queryset's filters.

    Static check only: it does not run a query, unless ``verify=True``: then
    an index that serves statically must also be the live planner's choice
    at the start, middle and end of the walk (``Report.verify_planner()``).
    """
    report = advise(queryset, order_by=order_by)
    if report.served and verify:
        _check_planner(report, mode)
        return
    if report.served:
        return
    if mode == "error":
        if report.recommendation is not None:
            fix = (
                f"add the index {report.recommendation.name} on "
                f"({', '.join(report.recommendation.fields)})"
            )
        else:
            fix = "see rangeqs.advisor.advise(queryset, order_by=...) for the ways out"
        raise InvalidQuerySetError(
            f"No index of {report.model_label} serves "
            f"order_by={report.order_by!r} under these filters without a sort or "
            f"an unbounded scan: {fix}, or pass "
            f"check_index=True to only log the report."
        )
    warn_once(report)


def _check_planner(report: Report, mode: Literal[True, "error"]) -> None:
    live = report.verify_planner()
    if live.served_by_planner:
        return
    if mode == "error":
        codes = ", ".join(dict.fromkeys(f.code for f in live.findings))
        fixes = ", ".join(fix.code for fix in live.fixes) or "none"
        raise InvalidQuerySetError(
            f"{report.index_name} serves order_by={report.order_by!r} of "
            f"{report.model_label} statically, but the live planner does not use "
            f"it ({codes}): apply a fix of report.verify_planner() ({fixes}), or "
            f"pass check_index=True to only log it."
        )
    # Once per shape and finding, as the static advice is.
    found = tuple(dict.fromkeys(finding.code for finding in live.findings))
    key = ("live", report.model_label, report.order_by, report.index_name, found)
    warn_once_for(key, lambda: live)


def _unindexed_filter_reasons(
    recommendation: Recommendation,
    conditions: Sequence[Condition],
    keys: Sequence[Key],
) -> list[str]:
    """Name the IN lists and ranges the recommended index leaves to the rows."""
    indexed = {name.removeprefix("-") for name in recommendation.fields}
    key_names = {key.name for key in keys}
    left = [
        c.field
        for c in conditions
        if c.can_bound_index
        and c.kind in {"in", "range"}
        and c.field is not None
        and c.field.name not in indexed
        and c.field.attname not in key_names
    ]
    if not left:
        return []
    names = ", ".join(dict.fromkeys(field.attname for field in left))
    return [
        (
            f"The recommended index leaves {names} to be checked on each row it reads: "
            f"when that filter keeps few of them, ordering by {left[0].attname} first "
            f"reads less."
        )
    ]


def _queryset_and_order(
    target: Any, order_by: str | Sequence[str] | None
) -> tuple[QuerySet[Any], str | Sequence[str]]:
    if isinstance(target, QuerySet):
        if order_by is None:
            raise InvalidQuerySetError(
                "advise() needs the keyset order of a queryset: pass "
                "order_by=(...), e.g. order_by=('group_id', 'id')."
            )
        return target, order_by
    queryset = getattr(target, "queryset", None)
    if not isinstance(queryset, QuerySet):
        raise InvalidQuerySetError(
            f"advise() takes a QuerySet or a RangeQuerySetWrapper, not "
            f"{type(target).__name__}: pass the queryset you iterate."
        )
    return queryset, order_by if order_by is not None else target.order_by


def _filter_columns(model: Any, conditions: Sequence[Condition]) -> list[str]:
    columns: list[str] = []
    for condition in conditions:
        field = condition.field
        if (
            field is None
            or field.model._meta.concrete_model is not model._meta.concrete_model
        ):
            continue
        if field.attname not in columns:
            columns.append(field.attname)
    return columns


def _reasons(
    fits: Sequence[IndexFit],
    best: IndexFit | None,
    *,
    served: bool,
    keys: Sequence[Key],
    conditions: Sequence[Condition],
    residual: Sequence[str],
) -> list[str]:
    reasons: list[str] = []
    if served:
        assert best is not None
        reasons.append(reason(best, keys))
    else:
        involved = {k.name for k in keys} | {
            c.field.attname for c in conditions if c.field is not None
        }
        ranked = sorted(fits, key=lambda fit: fit is not best)
        for fit in ranked:
            declared = fit.columns[:-1] if fit.index.pk_appended else fit.columns
            if fit is not best and fit.usable and not involved & set(declared):
                continue
            sentence = reason(fit, keys)
            if fit.ordered and not fit.bounded_by:
                sentence = (
                    sentence.removesuffix(".") + ", but no filter narrows its scan."
                )
            if sentence not in reasons:
                reasons.append(sentence)
        if best is not None and best.breaker is not None:
            reasons.append(ways_out(best, keys))
        if best is not None and best.ordered and not best.bounded_by:
            reasons.append(
                f"No index narrows the scan by the filters: every page reads rows "
                f"in order from {best.index.name} and checks the filters on each, "
                f"so a page costs as many rows as it takes to find step matches."
            )
        elif best is None:
            reasons.append(
                "No index gives this order or narrows the scan: every page reads "
                "the whole table and sorts the matches."
            )
    if residual:
        in_lists = [
            c.field.attname
            for c in conditions
            if c.kind == "in" and c.field is not None and c.field.attname in residual
        ]
        sentence = (
            f"{', '.join(residual)} {'is' if len(residual) == 1 else 'are'} not used "
            f"by the index: checked on each fetched row (a residual filter); a "
            f"filter outside the index (a tenant filter, say) never needs dropping."
        )
        if in_lists:
            sentence += (
                f" When the IN list on {', '.join(in_lists)} keeps few of the rows "
                f"the index reads, prefer order_by=({in_lists[0]!r}, ...) or "
                f'plan="merge" with an index led by {in_lists[0]}.'
            )
        reasons.append(sentence)
    unbounded = sorted(
        {c.field.attname for c in conditions if c.field and not c.can_bound_index}
    )
    if unbounded:
        reasons.append(
            f"Conditions on {', '.join(unbounded)} cannot bound an index scan: they "
            f"are under an OR or a NOT, on a joined table, or use a lookup other "
            f"than =, IN, a range or IS NULL."
        )
    expressions = sum(1 for c in conditions if c.field is None)
    if expressions:
        reasons.append(
            f"{expressions} condition(s) on an expression or raw SQL cannot bound "
            f"an index: they are checked on each fetched row."
        )
    return reasons
