"""Fixtures shared by the training and CLI tests (imported by their conftest.py files): a
stand-in datasets service that knows wine and diabetes, a client using it, spec factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelward.client import Client
from modelward.config import Settings
from modelward.errors import NotFound


@dataclass(frozen=True)
class FakeVersion:
    name: str
    version: int


class FakeDatasets:
    """The datasets-service calls training makes (get, load, log_input) over in-memory frames."""

    def __init__(self) -> None:
        from sklearn.datasets import load_diabetes, load_wine

        self.frames: dict[tuple[str, int], Any] = {
            ("wine", 1): load_wine(as_frame=True).frame,
            ("diabetes", 1): load_diabetes(as_frame=True).frame,
        }
        self.inputs: list[tuple[str | None, FakeVersion, str]] = []

    def add(self, name: str, frame: Any) -> FakeVersion:
        version = 1 + max((v for n, v in self.frames if n == name), default=0)
        self.frames[(name, version)] = frame
        return FakeVersion(name, version)

    def get(self, ref: str) -> FakeVersion:
        name, _, version = ref.partition("@")
        versions = [v for n, v in self.frames if n == name]
        if not versions:
            raise NotFound(f"dataset {name!r} does not exist")
        number = max(versions) if version in ("", "latest") else int(version)
        if (name, number) not in self.frames:
            raise NotFound(f"dataset {name}@{number} does not exist")
        return FakeVersion(name, number)

    def load(self, ref: str, columns: Any = None) -> Any:
        v = self.get(ref)
        frame = self.frames[(v.name, v.version)].copy()
        return frame[list(columns)] if columns else frame

    def log_input(
        self, version: FakeVersion, role: str = "train", run_id: str | None = None
    ) -> None:
        self.inputs.append((run_id, version, role))


@pytest.fixture
def datasets() -> FakeDatasets:
    return FakeDatasets()


@pytest.fixture
def training_client(
    sqlite_uri: str, tmp_path: Path, datasets: FakeDatasets, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Client]:
    monkeypatch.setattr(Client, "_datasets_service", lambda self: datasets)
    c = Client(
        sqlite_uri,
        artifacts=str(tmp_path / "artifacts"),
        settings=Settings.defaults(system_metrics=False, home=tmp_path / "home", user="alice"),
    )
    yield c
    c.close()


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
