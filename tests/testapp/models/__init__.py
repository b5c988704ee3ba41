"""Test models, one module per area so that each stays small.

The app has no migrations: the test runner creates these tables directly.
"""

from __future__ import annotations

from tests.testapp.models.advisor import *  # noqa: F403
from tests.testapp.models.bounded import *  # noqa: F403
from tests.testapp.models.core import *  # noqa: F403
from tests.testapp.models.plans import *  # noqa: F403
