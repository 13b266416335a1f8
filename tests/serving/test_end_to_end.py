"""Real registered scikit-learn models behind a real server: protocols, swap, rollback, feedback,
the prediction log, SIGTERM draining and batch prediction over a file."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from modelward.client import Client
from modelward.serving.app import create_app
from modelward.serving.runner import ServeOptions, build_state
from tests.serving.helpers import free_port, real_server

FEATURES = ["f0", "f1", "f2", "f3"]


def _fit(seed: int) -> Any:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(200, 4)), columns=FEATURES)
    y = (x["f0"] + (1 if seed else -1) * x["f1"] > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y), x


@pytest.fixture
def registered(client: Client, run_id: str) -> tuple[Client, Any]:
    """Versions 1 (with ONNX) and 2 of ``clf``; champion -> 1; deployment ``prod``."""
    m1, x = _fit(0)
    m2, _ = _fit(1)
    v1 = client.models.log_model(m1, "v1", run_id=run_id, input_example=x.head(10), onnx=True)
    v2 = client.models.log_model(m2, "v2", run_id=run_id, input_example=x.head(10))
    client.registry.register(v1.uri, "clf", alias="champion")
    client.registry.register(v2.uri, "clf", alias="challenger")
    client.deployments.create("prod", "clf@champion")
    return client, x


def _serve(client: Client, target: str = "prod") -> Any:
    state = build_state(client, ServeOptions(target, poll_interval=0.1))
    return real_server(state, feedback=client.deployments.add_feedback)


def test_deploy_serve_swap_rollback_feedback(registered: tuple[Client, Any]) -> None:
    client, x = registered
    rows = x.head(3).to_dict("records")
    with _serve(client) as base, httpx.Client(base_url=base, timeout=10) as http:
        oip = http.post(
            "/v2/models/prod/infer",
            json={
                "inputs": [
                    {
                        "name": "x",
                        "shape": [3, 4],
                        "datatype": "FP64",
                        "data": x.head(3).to_numpy().tolist(),
                    }
                ]
            },
        )
        mlflow = http.post("/invocations", json={"dataframe_records": rows})
        plain = http.post("/predict", json=rows)
        assert oip.status_code == mlflow.status_code == plain.status_code == 200
        expected = client.models.load_model("models:/clf/1").predict(x.head(3)).tolist()
        assert oip.json()["outputs"][0]["data"] == expected
        assert mlflow.json()["predictions"] == expected == plain.json()["predictions"]
        assert oip.json()["model_version"] == "1"

        # Move the alias under load: every request answered, the new version takes over.
        failures: list[str] = []
        versions: set[str] = set()
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                r = http.post("/predict", json=rows[:1])
                if r.status_code != 200:
                    failures.append(r.text)
                versions.add(r.headers.get("x-model-version", "?"))

        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        client.registry.set_alias("clf", "champion", 2)
        deadline = time.monotonic() + 20
        while "2" not in versions and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
        assert not failures
        assert versions == {"1", "2"}
        d = client.deployments.get("prod")
        assert d.current_version == 2
        assert d.previous_versions == (1,)

        client.deployments.rollback("prod")
        deadline = time.monotonic() + 20
        while http.post("/predict", json=rows[:1]).headers["x-model-version"] != "1":
            assert time.monotonic() < deadline
            time.sleep(0.05)

        rid = plain.headers["x-request-id"]
        fb = http.post("/v2/models/prod/feedback", json={"request_id": rid, "label": [1, 0, 1]})
        assert fb.json() == {"accepted": 1}
        metrics = http.get("/metrics").text
        assert 'modelward_model_swaps_total{deployment="prod",role="champion"}' in metrics
    # the server stopped: its prediction log is flushed
    table = client.deployments.read_predictions("prod", with_feedback=True)
    mine = [r for r in table.to_pylist() if r["request_id"] == rid]
    assert [r["label"] for r in mine] == [1, 0, 1]
    assert mine[0]["f0"] == pytest.approx(rows[0]["f0"])
    assert set(table.column("model_version").to_pylist()) == {1, 2}


def test_serving_a_model_uri_without_a_deployment(registered: tuple[Client, Any]) -> None:
    client, _x = registered
    with _serve(client, "models:/clf@challenger") as base:
        r = httpx.post(
            base + "/v2/models/clf/infer",
            json={
                "inputs": [
                    {"name": n, "shape": [1], "datatype": "FP64", "data": [0.5]} for n in FEATURES
                ]
            },
        )
    assert r.status_code == 200
    assert r.json()["model_version"] == "2"


def test_sigterm_drains_in_flight_requests_and_flushes_the_log(
    registered: tuple[Client, Any],
) -> None:
    client, _x = registered
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    s = client.settings
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelward",
            "--uri",
            s.metadata_uri(),
            "--artifacts",
            s.artifact_uri(),
            "--home",
            str(s.home),
            "serve",
            "prod",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
        big = np.random.default_rng(0).normal(size=(30_000, 4)).tolist()
        body = {"dataframe_split": {"columns": FEATURES, "data": big}}
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            futures = [
                pool.submit(httpx.post, base + "/invocations", json=body, timeout=60)
                for _ in range(6)
            ]
            while _started(base) < 6:  # every request has reached the server
                time.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            replies = [f.result() for f in futures]
        assert [r.status_code for r in replies] == [200] * 6
        # uvicorn re-raises SIGTERM once shut down, so the exit is by that signal.
        assert proc.wait(60) in {0, -signal.SIGTERM}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    logged = client.deployments.read_predictions("prod")
    assert logged.num_rows == 6 * 30_000  # under the log queue bound (200,000 rows): none dropped


def _started(base: str) -> int:
    """Requests being handled plus requests answered, from the server's metrics."""
    total = 0.0
    for line in httpx.get(base + "/metrics", timeout=5).text.splitlines():
        if line.startswith("modelward_inflight_requests{") or line.startswith(
            'modelward_requests_total{deployment="prod",endpoint="invocations"'
        ):
            total += float(line.split()[-1])
    return int(total)


def test_batch_prediction_over_parquet_and_csv(
    registered: tuple[Client, Any], tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    from modelward.deployments.batch import predict_file

    client, x = registered
    predictor = client.models.load_model("models:/clf@champion")
    x.to_parquet(tmp_path / "in.parquet")
    x.to_csv(tmp_path / "in.csv", index=False)
    seen: list[int] = []
    assert (
        predict_file(
            predictor,
            tmp_path / "in.parquet",
            tmp_path / "out.parquet",
            chunk_rows=64,
            progress=seen.append,
        )
        == 200
    )
    assert seen == [64, 128, 192, 200]
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == [*FEATURES, "prediction"]
    assert out.column("prediction").to_pylist() == predictor.predict(x).tolist()
    assert (
        predict_file(
            predictor,
            tmp_path / "in.csv",
            tmp_path / "csv.parquet",
            chunk_rows=50,
            keep_inputs=False,
        )
        == 200
    )
    assert (
        pq.read_table(tmp_path / "csv.parquet").column("prediction").to_pylist()
        == predictor.predict(x).tolist()
    )


def test_create_app_is_importable_without_a_store() -> None:
    assert callable(create_app)
