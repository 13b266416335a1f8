"""Model packaging and loading figures: log_model, load, single-row and 1,000-row predict.

Usage:
    PYTHONPATH=src python bench/models.py [--single N] [--batches N] [--mlflow-python PATH]

Workload: a small scikit-learn pipeline (scaling + one-hot encoding + logistic regression on
3 numeric and 1 text column, 2,000 training rows). Measured paths:

- raw scikit-learn: the in-memory pipeline, DataFrame input (the floor of the native path);
- modelward, skops-loaded predictor (backend="native"), records and DataFrame input;
- modelward, ONNX Runtime predictor (backend="auto" with a passing export), records and the
  ``predict_array`` fast path; raw ``InferenceSession.run`` as the floor;
- MLflow (``mlflow.sklearn.log_model`` defaults, registry, ``mlflow.pyfunc.load_model`` by
  alias, pyfunc predict on a DataFrame) when ``--mlflow-python`` names an interpreter with
  mlflow installed (or mlflow is importable here). MLflow never goes into modelward's venv:
  make a private one (python -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install
  mlflow scikit-learn).

Prints medians and p99 in milliseconds and the ratios modelward / MLflow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

DATA_CODE = textwrap.dedent(
    """
    def make_data(n=2000, seed=0):
        import numpy as np
        import pandas as pd
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        rng = np.random.default_rng(seed)
        frame = pd.DataFrame(
            {
                "age": rng.integers(18, 80, n).astype("int64"),
                "income": rng.normal(50_000, 12_000, n),
                "tenure": rng.exponential(3.0, n),
                "plan": rng.choice(["basic", "pro", "team"], n),
            }
        )
        y = ((frame["income"] > 50_000) ^ (frame["plan"] == "pro")).astype(int).to_numpy()
        pre = ColumnTransformer(
            [
                ("num", StandardScaler(), ["age", "income", "tenure"]),
                ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            ]
        )
        model = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(frame, y)
        return frame, model
    """
)
exec(DATA_CODE)  # defines make_data, shared verbatim with the MLflow child process


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_calls(fn: Callable[[], object], n: int, warmup: int = 20) -> list[float]:
    for _ in range(min(warmup, n)):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def line(label: str, value: str) -> None:
    print(f"  {label:<56} {value}")


def ratio(label: str, theirs: float, ours: float) -> None:
    line(label, f"{theirs / ours:8.1f}x")


def row(label: str, samples: list[float]) -> dict[str, float]:
    p50, p99 = statistics.median(samples), pct(samples, 0.99)
    print(f"  {label:<52} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms")
    return {"p50": p50, "p99": p99}


MLFLOW_WORKLOAD = DATA_CODE + textwrap.dedent(
    """
    import json, os, statistics, sys, tempfile, time, warnings
    warnings.simplefilter("ignore")
    import mlflow, mlflow.sklearn, mlflow.pyfunc
    from mlflow import MlflowClient

    single, batches = int(sys.argv[1]), int(sys.argv[2])
    frame, model = make_data()
    root = tempfile.mkdtemp(prefix="mlflow-bench-")
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    mlflow.set_registry_uri(f"sqlite:///{root}/mlflow.db")
    exp = mlflow.create_experiment("bench", artifact_location=f"file://{root}/artifacts")
    res = {}
    with mlflow.start_run(experiment_id=exp):
        t = time.perf_counter()
        info = mlflow.sklearn.log_model(model, name="model", input_example=frame.head(5))
        res["log_model_first_s"] = time.perf_counter() - t
        times = []
        for i in range(3):
            t = time.perf_counter()
            mlflow.sklearn.log_model(model, name=f"model{i}", input_example=frame.head(5))
            times.append(time.perf_counter() - t)
        res["log_model_s"] = statistics.median(times)
    t = time.perf_counter()
    mv = mlflow.register_model(info.model_uri, "bench")
    res["register_s"] = time.perf_counter() - t
    client = MlflowClient()
    client.set_registered_model_alias("bench", "champion", mv.version)
    loads = []
    for _ in range(5):
        t = time.perf_counter()
        pyfunc = mlflow.pyfunc.load_model("models:/bench@champion")
        loads.append(time.perf_counter() - t)
    res["load_s"] = statistics.median(loads)

    def timed(fn, n):
        for _ in range(min(20, n)):
            fn()
        out = []
        for _ in range(n):
            t = time.perf_counter(); fn(); out.append((time.perf_counter() - t) * 1000)
        return out

    one = frame.head(1)
    thousand = frame.head(1000)
    res["single_ms"] = timed(lambda: pyfunc.predict(one), single)
    res["batch_ms"] = timed(lambda: pyfunc.predict(thousand), batches)
    res["version"] = mlflow.__version__
    print("RESULT " + json.dumps(res))
    """
)


def run_mlflow(python: str, single: int, batches: int) -> dict[str, Any] | None:
    env = {**os.environ, "MLFLOW_ENABLE_ASYNC_LOGGING": "false", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python, "-c", MLFLOW_WORKLOAD, str(single), str(batches)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    print(f"  MLflow workload failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=1000, help="single-row calls per path")
    parser.add_argument("--batches", type=int, default=100, help="1,000-row calls per path")
    parser.add_argument("--mlflow-python", default=None, help="interpreter with mlflow installed")
    args = parser.parse_args()

    import numpy as np
    import onnxruntime as ort
    import skops.io as sio

    import modelward as mw
    from modelward.client import Client
    from modelward.config import Settings

    frame, model = make_data()  # type: ignore[name-defined]  # noqa: F821
    one_frame = frame.head(1)
    one_record = frame.head(1).to_dict("records")
    one_array = frame.head(1).to_numpy(dtype=object)
    thousand = frame.head(1000)
    thousand_records = thousand.to_dict("records")
    thousand_array = thousand.to_numpy(dtype=object)
    results: dict[str, Any] = {}

    with tempfile.TemporaryDirectory(prefix="mw-bench-models-") as tmp:
        root = Path(tmp)
        client = Client(
            f"sqlite:///{root / 'mw.db'}",
            artifacts=str(root / "artifacts"),
            settings=Settings.defaults(system_metrics=False, home=root / "home", user="bench"),
        )
        run = client.tracking.start_run("bench")
        print(f"modelward {mw.__version__}, workload: {len(frame):,}-row pipeline, 4 columns")
        print("log_model (small scikit-learn pipeline):")
        start = time.perf_counter()
        client.models.log_model(model, "first", run_id=run.id, input_example=frame.head(5))
        first = time.perf_counter() - start
        line("first call in the process (imports skops/scikit-learn)", f"{first:8.3f} s")
        warm = []
        for i in range(10):
            start = time.perf_counter()
            client.models.log_model(model, f"m{i}", run_id=run.id, input_example=frame.head(5))
            warm.append(time.perf_counter() - start)
        results["log_model_s"] = statistics.median(warm)
        line("skops, median of 10", f"{results['log_model_s']:8.3f} s")
        onnx_times = []
        for i in range(5):
            start = time.perf_counter()
            logged = client.models.log_model(
                model, f"onnx{i}", run_id=run.id, input_example=frame.head(50), onnx=True
            )
            onnx_times.append(time.perf_counter() - start)
        line(
            "skops + ONNX export + parity check, median of 5",
            f"{statistics.median(onnx_times):8.3f} s",
        )
        parity = logged.manifest.onnx["parity"]  # type: ignore[index]
        diff, passed = parity["max_abs_diff"], parity["passed"]
        line("ONNX parity on 50 rows", f"max |diff| {diff:.2e}, passed={passed}")
        start = time.perf_counter()
        client.registry.register(logged.uri, "bench", alias="champion")
        line("register + alias", f"{time.perf_counter() - start:8.3f} s")
        client.tracking.end_run(run.id)

        print("load (models:/bench@champion; digests verified every time):")
        loads: dict[str, list[float]] = {"native": [], "auto": []}
        for backend in ("native", "auto"):
            for _ in range(10):
                start = time.perf_counter()
                client.models.load_model("models:/bench@champion", backend=backend)  # type: ignore[arg-type]
                loads[backend].append((time.perf_counter() - start) * 1000)
        path, _ = client.models.local_path("models:/bench@champion")
        raw = []
        for _ in range(10):
            start = time.perf_counter()
            sio.load(
                path / "model.skops", trusted=sio.get_untrusted_types(file=path / "model.skops")
            )
            raw.append((time.perf_counter() - start) * 1000)
        results["load_native_ms"] = row("skops predictor (cache hit)", loads["native"])["p50"]
        results["load_onnx_ms"] = row("ONNX Runtime predictor (cache hit)", loads["auto"])["p50"]
        row("raw skops.io.load of the same file", raw)

        native = client.models.load_model("models:/bench@champion", backend="native")
        fast = client.models.load_model("models:/bench@champion")
        assert fast.backend == "onnxruntime"
        session = ort.InferenceSession(str(path / "model.onnx"), providers=["CPUExecutionProvider"])
        feed = {
            "age": one_frame[["age"]].to_numpy(np.float32),
            "income": one_frame[["income"]].to_numpy(np.float32),
            "tenure": one_frame[["tenure"]].to_numpy(np.float32),
            "plan": one_frame[["plan"]].to_numpy(object),
        }
        n1, nb = args.single, args.batches
        print(f"predict, 1 row ({n1:,} calls):")
        single = {
            "raw": row(
                "raw scikit-learn, DataFrame", time_calls(lambda: model.predict(one_frame), n1)
            ),
            "native_frame": row(
                "skops predictor, DataFrame", time_calls(lambda: native.predict(one_frame), n1)
            ),
            "native_records": row(
                "skops predictor, records", time_calls(lambda: native.predict(one_record), n1)
            ),
            "onnx_records": row(
                "ONNX predictor, records", time_calls(lambda: fast.predict(one_record), n1)
            ),
            "onnx_array": row(
                "ONNX predictor, predict_array",
                time_calls(lambda: fast.predict_array(one_array), n1),
            ),
            "ort_floor": row(
                "raw InferenceSession.run", time_calls(lambda: session.run(["label"], feed), n1)
            ),
        }
        print(f"predict, 1,000 rows ({nb:,} calls):")
        batch = {
            "raw": row(
                "raw scikit-learn, DataFrame", time_calls(lambda: model.predict(thousand), nb, 5)
            ),
            "native_frame": row(
                "skops predictor, DataFrame", time_calls(lambda: native.predict(thousand), nb, 5)
            ),
            "native_records": row(
                "skops predictor, records",
                time_calls(lambda: native.predict(thousand_records), nb, 5),
            ),
            "onnx_records": row(
                "ONNX predictor, records", time_calls(lambda: fast.predict(thousand_records), nb, 5)
            ),
            "onnx_array": row(
                "ONNX predictor, predict_array",
                time_calls(lambda: fast.predict_array(thousand_array), nb, 5),
            ),
        }
        client.close()

    python = args.mlflow_python
    if python is None:
        try:
            import mlflow  # noqa: F401

            python = sys.executable
        except ImportError:
            print("MLflow: not measured (pass --mlflow-python PATH to an interpreter with mlflow)")
            return
    print(f"MLflow (child process {python}):")
    ml = run_mlflow(python, args.single, args.batches)
    if ml is None:
        return
    ml_single = statistics.median(ml["single_ms"])
    ml_batch = statistics.median(ml["batch_ms"])
    print(
        f"  MLflow {ml['version']}: log_model first {ml['log_model_first_s']:.3f} s, "
        f"median {ml['log_model_s']:.3f} s; register {ml['register_s'] * 1000:.1f} ms; "
        f"load by alias {ml['load_s'] * 1000:.1f} ms"
    )
    row("MLflow pyfunc predict, 1 row", ml["single_ms"])
    row("MLflow pyfunc predict, 1,000 rows", ml["batch_ms"])
    print("ratios (MLflow / modelward; > 1 means modelward is faster):")
    ratio("log_model", ml["log_model_s"], results["log_model_s"])
    ratio("load by alias, skops predictor", ml["load_s"] * 1000, results["load_native_ms"])
    ratio("load by alias, ONNX predictor", ml["load_s"] * 1000, results["load_onnx_ms"])
    ratio("1 row: skops predictor (records)", ml_single, single["native_records"]["p50"])
    ratio("1 row: ONNX predictor (records)", ml_single, single["onnx_records"]["p50"])
    ratio("1 row: ONNX predict_array", ml_single, single["onnx_array"]["p50"])
    ratio("1,000 rows: skops predictor (DataFrame)", ml_batch, batch["native_frame"]["p50"])
    ratio("1,000 rows: ONNX predictor (records)", ml_batch, batch["onnx_records"]["p50"])
    ratio("1,000 rows: ONNX predict_array", ml_batch, batch["onnx_array"]["p50"])


if __name__ == "__main__":
    main()
