"""Run the examples of the plan docs (docs/examples/choose_a_plan.py)."""

from __future__ import annotations

import pytest
from docs.examples import choose_a_plan

from rangeqs.examples.grouphash.models import Group, GroupHash, Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups() -> list[Group]:
    project = Project.objects.create(slug="p", name="P")
    groups = [Group.objects.create(project=project) for _ in range(3)]
    for i in range(9):
        GroupHash.objects.create(project=project, hash=f"h{i}", group=groups[i % 3])
    return groups


def test_group_by_group_and_id_order_examples(groups: list[Group]) -> None:
    project_id = groups[0].project_id
    ids = [group.pk for group in groups[:2]]
    listed = GroupHash.objects.filter(group_id__in=ids)

    by_group = choose_a_plan.hashes_group_by_group(project_id, ids)
    by_id = choose_a_plan.hashes_in_id_order(project_id, ids)

    assert by_group == list(
        listed.order_by("group_id", "id").values_list("hash", flat=True)
    )
    assert by_id == list(listed.order_by("id").values_list("hash", flat=True))


def test_plan_in_use_example(groups: list[Group]) -> None:
    ids = [group.pk for group in groups]

    assert choose_a_plan.plan_in_use(ids, ("group_id", "id")) == "partition"
    assert choose_a_plan.plan_in_use(ids, "id") == "merge"
    assert choose_a_plan.plan_in_use(ids[:1], "id") == "plain"
