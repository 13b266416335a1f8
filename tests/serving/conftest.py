"""Serving fixtures (helpers live in tests/serving/helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


from tests.model_fixtures import client, frame, labels, pipeline, run_id  # noqa: E402

__all__ = ["anyio_backend", "client", "frame", "labels", "pipeline", "run_id"]
