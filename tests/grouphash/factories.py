"""factory-boy factories for the GroupHash example's three models."""

from __future__ import annotations

import factory

from rangeqs.examples.grouphash.models import Group, GroupHash, Project


class ProjectFactory(factory.django.DjangoModelFactory):  # type: ignore[misc]
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.Sequence(lambda n: f"Project {n}")


class GroupFactory(factory.django.DjangoModelFactory):  # type: ignore[misc]
    class Meta:
        model = Group

    project = factory.SubFactory(ProjectFactory)


class GroupHashFactory(factory.django.DjangoModelFactory):  # type: ignore[misc]
    class Meta:
        model = GroupHash

    group = factory.SubFactory(GroupFactory)
    # A hash row belongs to its group's project, as in Sentry.
    project = factory.SelfAttribute("group.project")
    hash = factory.Sequence(lambda n: f"{n:032x}")
