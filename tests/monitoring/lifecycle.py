"""End-to-end helpers: a trained, registered and deployed model and its prediction log.

``deployed`` builds the whole chain a monitor walks: dataset version ``churn@1`` (the
training data, profiled at ingest) -> training run (params ``task``/``target``, metrics
``test_accuracy``/``test_f1``, dataset input with role ``train``) -> model logged to the run
-> registered ``churn`` version 1 (alias ``champion``) -> deployment ``prod``.

Predictions reach the log through the serving code: :func:`serve` posts to the in-process ASGI
app; :func:`write_log` appends through the prediction log writer at chosen times (so tests can
fill past windows without waiting for them).
"""

from __future__ import annotations

import time
import types
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from modelward.client import Client

FEATURES = ["f0", "f1", "plan"]
HOUR = 3_600_000
#: A fixed, hour-aligned start for logs written at chosen times.
BASE = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def frame(
    n: int, *, seed: int, shift: float = 0.0, plans: tuple[str, ...] = ("a", "b", "c")
) -> pd.DataFrame:
    """Rows like the training data (``shift`` moves f0 by that many standard deviations)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "f0": rng.normal(shift, 1.0, n),
            "f1": rng.normal(0.0, 1.0, n),
            "plan": rng.choice(list(plans), n),
        }
    )


def truth(rows: pd.DataFrame) -> np.ndarray:
    """The ground truth of the synthetic task."""
    return ((rows["f0"] + rows["f1"] + (rows["plan"] == "a")) > 0.5).astype(int).to_numpy()


@dataclass
class Deployed:
    """The chain built by the ``deployed`` fixture."""

    client: Client
    model: Any
    run_id: str


@pytest.fixture
def deployed(client: Client) -> Deployed:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = frame(2000, seed=0)
    data["target"] = truth(data)
    version = client.datasets.ingest(data, name="churn").version
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["f0", "f1"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
        ]
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(data[FEATURES], data["target"])
    run = client.tracking.start_run("churn-training")
    client.tracking.log_params(run.id, {"task": "classification", "target": "target"})
    client.tracking.log_metrics(run.id, {"test_accuracy": 0.93, "test_f1": 0.92})
    client.datasets.log_input(run.id, version, role="train")
    client.tracking.flush()
    logged = client.models.log_model(
        model, "model", run_id=run.id, input_example=data[FEATURES].head(5)
    )
    client.registry.register(logged.uri, "churn", alias="champion")
    client.deployments.create("prod", "churn@champion")
    return Deployed(client, model, run.id)


def serve(client: Client, rows: pd.DataFrame, *, batch: int = 50) -> list[tuple[str, list[Any]]]:
    """Post ``rows`` to ``/predict`` of the in-process app serving ``prod``; return ids, outputs.

    The app's lifespan ends before this returns, so the prediction log is written.
    """
    import anyio
    import httpx

    from modelward.serving.app import create_app
    from modelward.serving.runner import ServeOptions, build_state

    records = rows.to_dict("records")

    async def main() -> list[tuple[str, list[Any]]]:
        state = build_state(client, ServeOptions("prod", poll_interval=0.2))
        app = create_app(state, feedback=client.deployments.add_feedback)
        out = []
        async with app.router.lifespan_context(app):
            for _ in range(600):
                if state.ready:
                    break
                await anyio.sleep(0.01)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                for i in range(0, len(records), batch):
                    r = await http.post("/predict", json=records[i : i + batch])
                    assert r.status_code == 200, r.text
                    out.append((r.headers["x-request-id"], r.json()["predictions"]))
        return out

    return anyio.run(main)


def write_log(
    client: Client,
    columns: dict[str, Any],
    predictions: Any,
    *,
    at: int,
    latency: float = 5.0,
    per_request: int = 10,
    deployment: str = "prod",
) -> list[str]:
    """Append rows to the prediction log as if requests arrived at ``at`` (ms); return their ids.

    ``columns`` maps input names to arrays (any dtype: tests of bad input bend them).
    """
    from modelward.deployments.predictions import predictions_scope
    from modelward.serving import predlog

    scope = predictions_scope(deployment)
    writer = predlog.PredictionLogWriter(
        deployment, lambda path, data: client.artifacts.log_bytes(scope, data, path)
    )
    preds = np.asarray(predictions)
    n = len(preds)
    ids = []
    fake = types.SimpleNamespace(
        time_ns=lambda: int((at + latency) * 1_000_000), monotonic=time.monotonic
    )
    with mock.patch.object(predlog, "time", fake):
        for i in range(0, n, per_request):
            rid = uuid.uuid4().hex
            part = {k: np.asarray(v)[i : i + per_request] for k, v in columns.items()}
            rows = len(preds[i : i + per_request])
            writer.append(
                "churn",
                1,
                "champion",
                list(part),
                part,
                preds[i : i + per_request],
                [rid],
                [rows],
                [latency],
            )
            ids.append(rid)
    writer.close()
    return ids


def log_frame(
    client: Client, model: Any, rows: pd.DataFrame, *, at: int, **kwargs: Any
) -> list[str]:
    """Log ``rows`` with the model's real predictions at time ``at``."""
    preds = model.predict(rows[FEATURES])
    return write_log(client, {c: rows[c].to_numpy() for c in rows.columns}, preds, at=at, **kwargs)


@pytest.fixture
def monitoring(deployed: Deployed) -> Iterator[Any]:
    """The monitoring service of the deployed chain (closed at teardown)."""
    yield deployed.client.monitoring
    deployed.client.monitoring.close(timeout=5)
