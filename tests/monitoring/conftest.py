"""Monitoring fixtures: the model chain (tests/monitoring/lifecycle.py) and serving's client."""

from __future__ import annotations

import pytest

from tests.model_fixtures import client
from tests.monitoring.lifecycle import deployed, monitoring


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


__all__ = ["anyio_backend", "client", "deployed", "monitoring"]
