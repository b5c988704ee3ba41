"""Fixtures of the jobs tests that start real workers."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def celery_app() -> Iterator[Any]:
    """The tests' Celery app as the current one, so that enqueueing reaches Redis."""
    celery = pytest.importorskip("celery")
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379: start it (.ci/run does)")
    finally:
        client.close()
    from tests.jobs.celery_app import app

    previous = celery.current_app._get_current_object()
    app.set_current()
    yield app
    previous.set_current()
    app.close()


@pytest.fixture
def queue(request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"rangeqs-jobs-test-{uuid.uuid4().hex[:12]}"
    yield name
    if "celery_app" in request.fixturenames:
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        client.delete(name)
        client.close()
