"""Seer clients for the tests, named by dotted path in the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class RecordingSeerClient:
    """Records every call; ``between_calls`` runs after each, so that a test
    can change the table between two pages of the walk."""

    calls: list[tuple[int, list[str]]] = field(default_factory=list)
    between_calls: Callable[[], None] | None = None

    def __call__(self, project_id: int, hashes: list[str]) -> None:
        self.calls.append((project_id, list(hashes)))
        if self.between_calls is not None:
            self.between_calls()

    def reset(self) -> None:
        self.calls.clear()
        self.between_calls = None

    @property
    def sent(self) -> list[str]:
        return [hash_ for _project_id, hashes in self.calls for hash_ in hashes]


recording_seer_client = RecordingSeerClient()
RECORDING_SEER_CLIENT = "tests.grouphash.seer_clients.recording_seer_client"
