"""Fixtures shared by the model and registry tests (imported by their conftest.py files)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelward.client import Client
from modelward.config import Settings

# ONNX Runtime otherwise writes telemetry state under ~/.cache (see ENVIRONMENT.md).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


@pytest.fixture
def client(sqlite_uri: str, tmp_path: Path) -> Iterator[Client]:
    c = Client(
        sqlite_uri,
        artifacts=str(tmp_path / "artifacts"),
        settings=Settings.defaults(system_metrics=False, home=tmp_path / "home", user="alice"),
    )
    yield c
    c.close()


@pytest.fixture
def run_id(client: Client) -> str:
    run = client.tracking.start_run("models-test")
    client.tracking.log_params(run.id, {"C": 1.0})
    client.tracking.log_metric(run.id, "accuracy", 0.93)
    client.tracking.flush()
    return run.id


@pytest.fixture
def frame() -> Any:
    import pandas as pd

    rng = np.random.default_rng(7)
    n = 120
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50_000, 12_000, n),
            "plan": rng.choice(["basic", "pro", "team"], n),
        }
    )


@pytest.fixture
def labels(frame: Any) -> Any:
    return ((frame["income"] > 50_000) ^ (frame["plan"] == "pro")).astype(int).to_numpy()


@pytest.fixture
def pipeline(frame: Any, labels: Any) -> Any:
    """Scaling + one-hot encoding + logistic regression, fitted on a DataFrame."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=500)).fit(frame, labels)


@pytest.fixture
def numeric_xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return x, y
