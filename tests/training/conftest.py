"""Training fixtures (tests/training_fixtures.py): a client with wine and diabetes, specs."""

from __future__ import annotations

import pytest

from modelward.client import Client
from tests.training_fixtures import datasets, diabetes_spec, training_client, wine_spec

__all__ = ["client", "datasets", "diabetes_spec", "training_client", "wine_spec"]


@pytest.fixture
def client(training_client: Client) -> Client:
    """The embedded client (its datasets service holds wine@1 and diabetes@1)."""
    return training_client
