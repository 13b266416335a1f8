"""Training fixtures (tests/training_fixtures.py): datasets stand-in, client, spec factories."""

from __future__ import annotations

import pytest

from modelward.client import Client
from tests.training_fixtures import (
    FakeDatasets,
    datasets,
    diabetes_spec,
    training_client,
    wine_spec,
)

__all__ = ["FakeDatasets", "client", "datasets", "diabetes_spec", "training_client", "wine_spec"]


@pytest.fixture
def client(training_client: Client) -> Client:
    """The embedded client whose datasets service is the stand-in."""
    return training_client
