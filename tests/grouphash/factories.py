"""factory-boy factories for the GroupHash example's three models."""

from __future__ import annotations

from factory.declarations import SelfAttribute, Sequence, SubFactory
from factory.django import DjangoModelFactory

from rangeqs.examples.grouphash.models import Group, GroupHash, Project


class ProjectFactory(DjangoModelFactory[Project]):
    class Meta:
        model = Project

    slug = Sequence(lambda n: f"project-{n}")  # type: ignore[no-untyped-call]
    name = Sequence(lambda n: f"Project {n}")  # type: ignore[no-untyped-call]


class GroupFactory(DjangoModelFactory[Group]):
    class Meta:
        model = Group

    project = SubFactory(ProjectFactory)  # type: ignore[no-untyped-call]


class GroupHashFactory(DjangoModelFactory[GroupHash]):
    class Meta:
        model = GroupHash

    group = SubFactory(GroupFactory)  # type: ignore[no-untyped-call]
    # A hash row belongs to its group's project, as in Sentry.
    project = SelfAttribute("group.project")  # type: ignore[no-untyped-call]
    hash = Sequence(lambda n: f"{n:032x}")  # type: ignore[no-untyped-call]
