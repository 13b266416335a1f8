"""Monitoring benchmark: one monitor run and one report over a prediction log.

Workload: a training dataset of 20 numeric + 5 categorical columns (ingested, so its profile
is stored), a model registered from a run that read it, a deployment, and a prediction log of
N rows (requests of 10 rows, one log file per hour, 24 hourly windows) where, from hour 12 on,
5 numeric columns are shifted by 0.3 standard deviations and one categorical distribution is
reversed. The monitor (drift, quality, operations, anomalies, one alert rule) evaluates the 24
windows in one run. Printed per size:

- ``run s``: ``client.monitoring.run`` (reference resolved from the stored profile, the log read
  once, 24 windows evaluated, ~30 results per column-window stored, anomalies, alerts);
- ``per window ms``;
- ``report s``: the HTML report of the last window (evaluated afresh, 25 column plots, charts);
- the windows flagged as drifted (expected: hours 12-23).

Usage::

    PYTHONPATH=src python bench/monitoring.py                 # 24k and 240k log rows
    PYTHONPATH=src python bench/monitoring.py --rows 2400000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import types
import uuid
from pathlib import Path
from unittest import mock

import numpy as np

NUMERIC = [f"num_{i}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
HOUR = 3_600_000
BASE = 1_767_225_600_000


def _frame(n: int, seed: int, shifted: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for i, name in enumerate(NUMERIC):
        cols[name] = rng.normal(0.3 if shifted and i < 5 else 0.0, 1.0, n)
    for i, name in enumerate(CATEGORICAL):
        p = np.array([0.5, 0.3, 0.15, 0.05])
        if shifted and i == 0:
            p = p[::-1]
        cols[name] = rng.choice(np.array(["a", "b", "c", "d"], dtype=object), n, p=p)
    return cols


def _setup(root: Path, rows: int) -> tuple[object, float]:
    import pandas as pd
    from sklearn.dummy import DummyClassifier

    from modelward.client import Client
    from modelward.config import Settings
    from modelward.deployments.predictions import predictions_scope
    from modelward.serving import predlog

    client = Client(
        f"sqlite:///{root / 'mw.db'}",
        artifacts=str(root / "artifacts"),
        settings=Settings.defaults(system_metrics=False, home=root / "home", user="bench"),
    )
    train = pd.DataFrame(_frame(50_000, 0, False))
    train["target"] = (train["num_0"] > 0).astype(int)
    version = client.datasets.ingest(train, name="bench").version
    model = DummyClassifier(strategy="prior").fit(train[NUMERIC + CATEGORICAL], train["target"])
    run = client.tracking.start_run("bench")
    client.tracking.log_params(run.id, {"task": "classification", "target": "target"})
    client.datasets.log_input(run.id, version, role="train")
    logged = client.models.log_model(
        model, "model", run_id=run.id, input_example=train[NUMERIC + CATEGORICAL].head(5)
    )
    client.registry.register(logged.uri, "bench", alias="champion")
    client.deployments.create("prod", "bench@champion")

    began = time.perf_counter()
    scope = predictions_scope("prod")
    per_hour = rows // 24
    rng = np.random.default_rng(9)
    for hour in range(24):
        writer = predlog.PredictionLogWriter(
            "prod",
            lambda path, data: client.artifacts.log_bytes(scope, data, path),
            roll_rows=10**9,
            max_queue_rows=10**9,
        )
        cols = _frame(per_hour, 100 + hour, hour >= 12)
        preds = rng.integers(0, 2, per_hour)
        at = BASE + hour * HOUR + 1000
        fake = types.SimpleNamespace(
            time_ns=lambda at=at: (at + 5) * 1_000_000, monotonic=time.monotonic
        )
        with mock.patch.object(predlog, "time", fake):
            for i in range(0, per_hour, 10):
                part = {k: v[i : i + 10] for k, v in cols.items()}
                n = len(preds[i : i + 10])
                writer.append(
                    "bench",
                    1,
                    "champion",
                    list(part),
                    part,
                    preds[i : i + 10],
                    [uuid.uuid4().hex],
                    [n],
                    [5.0],
                )
        writer.close()
    return client, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="24000,240000", help="log rows, comma-separated")
    args = parser.parse_args()
    print(
        f"{'log rows':>10} {'setup s':>8} {'run s':>7} {'per window ms':>14} {'report s':>9}"
        "  drifted hours"
    )
    for rows in (int(r) for r in args.rows.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            client, setup = _setup(Path(tmp), rows)
            mon = client.monitoring  # type: ignore[attr-defined]
            mon.create(
                {
                    "name": "bench",
                    "deployment": "prod",
                    "window": {"size": "1h", "lag": 0, "backfill": 24},
                    "checks": {"performance": False},
                    "alert_rules": [
                        {"name": "drift", "metric": "drift.share", "condition": ">= 0.2"}
                    ],
                }
            )
            began = time.perf_counter()
            result = mon.run("bench", now=BASE + 24 * HOUR)
            run_s = time.perf_counter() - began
            began = time.perf_counter()
            mon.write_report("bench", Path(tmp) / "report.html")
            report_s = time.perf_counter() - began
            drifted = [
                i
                for i, w in enumerate(result.windows)
                if w["drift"] and w["drift"]["drifted_columns"]
            ]
            print(
                f"{rows:>10,} {setup:>8.2f} {run_s:>7.2f} "
                f"{1000 * run_s / len(result.windows):>14.1f} {report_s:>9.2f}  {drifted}"
            )
            client.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
