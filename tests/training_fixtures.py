"""Fixtures shared by the training and CLI tests (imported by their conftest.py files): an
embedded client whose datasets service holds wine and diabetes, and spec factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modelward.client import Client
from modelward.config import Settings


@pytest.fixture
def training_client(sqlite_uri: str, tmp_path: Path) -> Iterator[Client]:
    """An embedded client whose datasets service holds wine@1 and diabetes@1."""
    c = Client(
        sqlite_uri,
        artifacts=str(tmp_path / "artifacts"),
        settings=Settings.defaults(system_metrics=False, home=tmp_path / "home", user="alice"),
    )
    c.datasets.ingest("sklearn:wine", name="wine")
    c.datasets.ingest("sklearn:diabetes", name="diabetes")
    yield c
    c.close()


@pytest.fixture
def datasets(training_client: Client) -> Any:
    """The client's datasets service (``client.datasets``)."""
    return training_client.datasets


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@pytest.fixture
def wine_spec() -> Callable[..., dict[str, Any]]:
    """A small classification spec on wine; keyword arguments override (merged) fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        base = {
            "name": "wine-test",
            "experiment": "training-tests",
            "seed": 3,
            "data": {"dataset": "wine@1", "target": "target"},
            "cv": {"folds": 3},
            "candidates": [
                {
                    "name": "logreg",
                    "estimator": "sklearn.linear_model.LogisticRegression",
                    "params": {"max_iter": 2000},
                    "space": {"C": [0.01, 1.0]},
                },
                {
                    "name": "tree",
                    "estimator": "sklearn.tree.DecisionTreeClassifier",
                    "space": {"max_depth": [1, 4]},
                },
            ],
        }
        return _merge(base, overrides)

    return make


@pytest.fixture
def diabetes_spec() -> Callable[..., dict[str, Any]]:
    """A small regression spec on diabetes."""

    def make(**overrides: Any) -> dict[str, Any]:
        base = {
            "name": "diabetes-test",
            "experiment": "training-tests",
            "seed": 1,
            "data": {"dataset": "diabetes", "target": "target"},
            "cv": {"folds": 3},
            "candidates": [
                {
                    "name": "ridge",
                    "estimator": "sklearn.linear_model.Ridge",
                    "space": {"alpha": {"low": 0.01, "high": 10.0, "log": True}},
                    "search": {"strategy": "random", "trials": 3},
                },
            ],
        }
        return _merge(base, overrides)

    return make
