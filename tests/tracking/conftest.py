"""Fixtures for tracking tests: an end-to-end client over a fresh SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modelward.client import Client
from modelward.config import Settings


@pytest.fixture
def make_client(sqlite_uri: str, tmp_path: Path) -> Iterator[Callable[..., Client]]:
    """Build clients over this test's store; settings default to quiet (no sampling, no env)."""
    made: list[Client] = []

    def make(**settings: Any) -> Client:
        options: dict[str, Any] = {"system_metrics": False, "capture_environment": False}
        options.update(settings)
        client = Client(
            sqlite_uri,
            artifacts=str(tmp_path / "artifacts"),
            settings=Settings.defaults(**options),
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    """A quiet client over a fresh SQLite store."""
    return make_client()
