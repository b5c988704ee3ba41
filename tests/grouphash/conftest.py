from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.grouphash.seer_clients import (
    RECORDING_SEER_CLIENT,
    RecordingSeerClient,
    recording_seer_client,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_django.fixtures import Settings


@pytest.fixture
def seer(settings: Settings) -> Iterator[RecordingSeerClient]:
    """The Seer client the task calls, recording what it is sent."""
    settings.RANGEQS_GROUPHASH_SEER_CLIENT = RECORDING_SEER_CLIENT
    recording_seer_client.reset()
    yield recording_seer_client
    recording_seer_client.reset()
