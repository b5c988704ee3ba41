"""Seer clients for the deletion task, named by ``RANGEQS_GROUPHASH_SEER_CLIENT``.

The real client is an HTTP call to Seer; the example ships one that logs (the
default) and one that counts (the demo), so that the task runs anywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["SeerDeletionCounter", "counting_seer_client", "log_seer_deletion"]

logger = logging.getLogger("rangeqs.examples.grouphash")


def log_seer_deletion(project_id: int, hashes: list[str]) -> None:
    """The default client: say what a real one would delete."""
    logger.info(
        "seer: delete %d grouping records of project %d",
        len(hashes),
        project_id,
        extra={"project_id": project_id, "hashes": len(hashes)},
    )


@dataclass
class SeerDeletionCounter:
    """A client that counts calls and hashes, for the demo's table."""

    calls: int = 0
    hashes: int = 0

    def __call__(self, project_id: int, hashes: list[str]) -> None:
        self.calls += 1
        self.hashes += len(hashes)

    def reset(self) -> None:
        self.calls = 0
        self.hashes = 0


counting_seer_client = SeerDeletionCounter()
