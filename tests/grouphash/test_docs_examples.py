"""The GroupHash examples of the docs run (the Celery one has its own tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.utils.module_loading import import_string
from docs.examples import grouphash_delete_groups, grouphash_settings

from rangeqs.examples.grouphash.models import Group, GroupHash
from tests.grouphash.factories import GroupFactory, GroupHashFactory, ProjectFactory

if TYPE_CHECKING:
    from tests.grouphash.seer_clients import RecordingSeerClient


def test_settings_example_names_importable_backends_and_clients() -> None:
    assert "rangeqs.examples.grouphash" in grouphash_settings.INSTALLED_APPS
    assert callable(import_string(grouphash_settings.TASKS["default"]["BACKEND"]))
    assert callable(import_string(grouphash_settings.RANGEQS_GROUPHASH_SEER_CLIENT))


@pytest.mark.django_db
def test_delete_groups_sends_their_hashes_to_seer_then_deletes_them(
    seer: RecordingSeerClient,
) -> None:
    project = ProjectFactory.create()
    groups = GroupFactory.create_batch(2, project=project)
    for group in groups:
        GroupHashFactory.create_batch(3, group=group)
    hashes = set(
        GroupHash.objects.values_list("hash", flat=True).filter(group__in=groups)
    )

    scheduled = grouphash_delete_groups.delete_groups([group.pk for group in groups])

    assert scheduled == 6
    assert set(seer.sent) == hashes
    assert not Group.objects.filter(pk__in=[group.pk for group in groups]).exists()
    assert not GroupHash.objects.filter(hash__in=hashes).exists()
