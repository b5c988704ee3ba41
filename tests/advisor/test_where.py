from __future__ import annotations

import pytest
from django.db.models import F, Q

from rangeqs._where import where_conditions, without_condition
from rangeqs.examples.grouphash.models import Group, GroupHash


def _by_column(queryset: object) -> dict[str | None, list[tuple[object, ...]]]:
    found: dict[str | None, list[tuple[object, ...]]] = {}
    for condition in where_conditions(queryset):  # type: ignore[arg-type]
        found.setdefault(condition.column, []).append(
            (condition.kind, condition.values, condition.can_bound_index)
        )
    return found


def test_reads_top_level_conditions_with_kinds_and_values() -> None:
    queryset = GroupHash.objects.filter(
        project_id=7, group__id__in=[3, 1, 2], id__gt=5, state__isnull=True
    ).filter(state__range=(1, 5))
    found = _by_column(queryset)
    assert found["project_id"] == [("exact", (7,), True)]
    assert found["group_id"] == [("in", (3, 1, 2), True)]
    assert found["id"] == [("range", (5,), True)]
    assert found["state"][0] == ("isnull", (True,), True)
    assert found["state"][1] == ("range", (1, 5), True)


def test_relation_lookup_is_read_as_the_foreign_key_column() -> None:
    group = Group(id=4)
    (condition,) = where_conditions(GroupHash.objects.filter(group=group))
    assert condition.field is GroupHash._meta.get_field("group")
    assert (condition.column, condition.kind, condition.values) == (
        "group_id",
        "exact",
        (4,),
    )
    assert condition.fixes_value


def test_or_and_not_conditions_cannot_bound_an_index() -> None:
    queryset = GroupHash.objects.filter(Q(state=1) | Q(hash="x")).exclude(
        group_tombstone_id=4
    )
    conditions = where_conditions(queryset)
    assert {c.column for c in conditions} == {"state", "hash", "group_tombstone_id"}
    assert not any(c.can_bound_index for c in conditions)
    assert not any(c.fixes_value for c in conditions)


def test_nested_and_groups_still_bound_an_index() -> None:
    (first, second) = where_conditions(GroupHash.objects.filter(Q(state=1) & Q(id=2)))
    assert first.can_bound_index
    assert second.can_bound_index


def test_expressions_joins_and_column_comparisons_are_other_or_unbounded() -> None:
    queryset = GroupHash.objects.filter(
        date_added__year=2020, group__message="m", hash=F("state")
    )
    year, message, compared = where_conditions(queryset)
    assert (year.kind, year.field, year.can_bound_index) == ("other", None, False)
    assert (message.column, message.can_bound_index) == ("message", False)
    assert (compared.kind, compared.can_bound_index) == ("other", False)


def test_subquery_in_list_has_no_literal_values() -> None:
    queryset = GroupHash.objects.filter(group__in=Group.objects.filter(id=3))
    (condition,) = where_conditions(queryset)
    assert (condition.kind, condition.values, condition.can_bound_index) == (
        "in",
        None,
        True,
    )


def test_condition_exposes_the_django_lookup() -> None:
    (condition,) = where_conditions(GroupHash.objects.filter(group_id__in=[1, 2]))
    assert condition.lookup is not None
    assert condition.lookup_name == "in"
    assert condition.lookup.rhs == [1, 2]


def test_without_condition_removes_only_that_condition() -> None:
    queryset = GroupHash.objects.filter(project_id=7, group_id__in=[1, 2])
    in_list = next(c for c in where_conditions(queryset) if c.kind == "in")
    remaining = without_condition(queryset, in_list).filter(group_id=1)
    assert [(c.column, c.kind) for c in where_conditions(remaining)] == [
        ("project_id", "exact"),
        ("group_id", "exact"),
    ]
    assert len(where_conditions(queryset)) == 2


def test_without_condition_refuses_a_condition_under_an_or() -> None:
    queryset = GroupHash.objects.filter(Q(state=1) | Q(hash="x"))
    with pytest.raises(ValueError, match="under an OR or a NOT"):
        without_condition(queryset, where_conditions(queryset)[0])


def test_without_condition_refuses_a_condition_of_another_queryset() -> None:
    first = GroupHash.objects.filter(project_id=7)
    second = GroupHash.objects.filter(project_id=8)
    with pytest.raises(ValueError, match="another queryset"):
        without_condition(second, where_conditions(first)[0])


def test_reading_leaves_the_query_untouched() -> None:
    queryset = GroupHash.objects.all()
    where_conditions(queryset)
    # A cached base_table of None would break the queryset's later joins.
    assert "base_table" not in queryset.query.__dict__
