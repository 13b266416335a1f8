"""The modelward lifecycle on the embedded store (./.modelward), end to end.

Run with `make demo`. Each stage prints what it did:

1. data      ingest scikit-learn's wine data with expectations, clean it with a recipe, split,
             query it with SQL, diff two versions
2. track     a hand-written training loop tracked with params, metrics and artifacts
3. train     cross-validated model selection over two model families; the winner is registered
4. registry  alias the winner `champion`, load it by alias, read the audit log and lineage, export
             it to ONNX
5. serve     deploy `wine@champion`, start `modelward serve` on 127.0.0.1, send traffic (like the
             training data, then shifted), post ground-truth labels
6. monitor   a monitor on the deployment: drift, data quality and live performance per window,
             an alert when drift appears, and an HTML report

The script exits 0 when every stage worked and can be run again (it adds new runs and versions).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

import modelward as mw
from modelward.errors import ModelwardError, NotFound

console = Console()
EXAMPLES = Path(__file__).resolve().parent


def stage(title: str) -> None:
    """Print a stage heading."""
    console.rule(f"[bold]{title}")


# -- 1. data -----------------------------------------------------------------------------------
def manage_data() -> str:
    """Ingest, validate, clean, split, query and diff the wine data; return the clean version."""
    stage("1. Data: ingest, validate, prepare, split, query")
    raw = mw.data.ingest(
        "sklearn:wine", name="wine", expect=EXAMPLES / "datasets" / "wine_expect.yaml"
    )
    version = raw.version
    what = "new version" if raw.created else "unchanged, existing version"
    console.print(
        f"ingested {version.ref} ({what}): {version.rows} rows, digest {version.digest[:12]}"
    )
    alcohol = mw.data.profile(version.ref).column("alcohol").numeric
    if alcohol is not None and alcohol.mean is not None and alcohol.std is not None:
        console.print(
            f"profile: alcohol mean {alcohol.mean:.2f}, std {alcohol.std:.2f}, "
            f"range [{alcohol.min}, {alcohol.max}]"
        )
    clean = mw.data.prepare(EXAMPLES / "datasets" / "wine_recipe.yaml").version
    console.print(f"prepared {clean.ref} from {', '.join(clean.parents)}: {clean.rows} rows")
    split = mw.data.split(clean.ref, test=0.2, validation=0.0, stratify="target", seed=7)
    console.print(f"split {split.split.name}: {dict(split.split.counts)}")
    # The version ref comes from this script, not from a user: no injection to fear.
    sql = f"SELECT target, count(*) AS n, round(avg(alcohol), 2) AS alcohol FROM {clean.ref} "  # noqa: S608
    table = mw.data.query(sql + "GROUP BY target ORDER BY target")
    console.print(f"query by class: {table.to_pylist()}")
    changes = mw.data.diff(version.ref, clean.ref)
    status = [c.status for c in changes.columns]
    console.print(
        f"diff {version.ref} -> {clean.ref}: {status.count('added')} columns added, "
        f"{status.count('removed')} removed, drifted: {list(changes.drifted)}"
    )
    return clean.ref


# -- 2. track ----------------------------------------------------------------------------------
def track_experiments() -> None:
    """Train a few models by hand on the wine data, tracking params, metrics and artifacts."""
    import numpy as np
    from sklearn.datasets import load_wine
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    stage("2. Track experiments")
    x, y = load_wine(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    classes = np.unique(y)
    mw.set_experiment("wine-sgd")
    with mw.start_run(name="sweep", tags={"demo": "lifecycle"}) as parent:
        for alpha in (1e-4, 1e-3, 1e-2):
            with mw.start_run(nested=True, name=f"alpha={alpha}"):
                mw.log_params({"alpha": alpha, "loss": "log_loss", "epochs": 20})
                model = SGDClassifier(loss="log_loss", alpha=alpha, random_state=0)
                for epoch in range(20):
                    model.partial_fit(x_train, y_train, classes=classes)
                    mw.log_metric("train_acc", model.score(x_train, y_train), step=epoch)
                mw.log_metric("test_acc", model.score(x_test, y_test))
        mw.log_dict({"features": x.shape[1], "classes": classes.tolist()}, "data_summary.json")
    best = mw.search_runs(
        filter=f"parent_id = '{parent.id}'", order_by=["metrics.test_acc DESC"], max_results=1
    ).items[0]
    history = mw.get_metric_history(best.id, "train_acc")
    console.print(
        f"sweep {parent.id}: best {best.name} test_acc={best.metrics['test_acc']:.3f}, "
        f"{len(history)} train_acc points"
    )


# -- 3. train ----------------------------------------------------------------------------------
def train_and_select(dataset: str) -> int:
    """Cross-validated search over two model families; register the winner as ``wine``."""
    stage("3. Train and select (cross-validation, grid search, nested runs)")
    spec = {
        "name": "wine-selection",
        "experiment": "wine-training",
        "seed": 7,
        "data": {"dataset": dataset, "target": "target", "split": {"test_size": 0.2}},
        "cv": {"folds": 3},
        "metric": "accuracy",
        "candidates": [
            {
                "name": "logreg",
                "estimator": "sklearn.linear_model.LogisticRegression",
                "params": {"max_iter": 2000},
                "space": {"C": [0.1, 1.0, 10.0]},
            },
            {
                "name": "forest",
                "estimator": "sklearn.ensemble.RandomForestClassifier",
                "params": {"n_estimators": 50},
                "space": {"max_depth": [3, None]},
            },
        ],
    }
    result = mw.train(spec, register="wine", workers=1)
    registered = result.registered or {}
    console.print(
        f"trials {dict(result.trials)}; winner {result.winner.label} {result.winner.params} "
        f"cv accuracy {result.cv_score:.3f}, test accuracy "
        f"{result.test_metrics.get('accuracy', float('nan')):.3f}"
    )
    console.print(f"registered wine v{registered.get('version')} from {result.model_uri}")
    return int(registered["version"])


# -- 4. registry -------------------------------------------------------------------------------
def registry(version: int) -> None:
    """Alias the new version champion, load it by alias, read audit and lineage, export ONNX."""
    stage("4. Registry: alias, load by alias, audit, lineage, export")
    previous = mw.set_alias("wine", "champion", version)
    console.print(f"champion: v{previous} -> v{version}" if previous else f"champion: v{version}")
    predictor = mw.load_model("models:/wine@champion")
    inputs = [c.name for c in predictor.signature.inputs]
    console.print(f"loaded models:/wine@champion ({predictor.backend}); inputs {inputs}")
    audit = mw.model_audit("wine")
    console.print(f"audit log: {len(audit)} entries, last: {audit[-1].action} by {audit[-1].actor}")
    lineage = mw.model_lineage("wine@champion")
    datasets = [
        f"{d.get('ref')} ({d.get('role')})" for d in lineage.get("datasets", {}).get("inputs", [])
    ]
    console.print(f"lineage: run {lineage['run']['name']} <- datasets {datasets}")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            exported = mw.export_model("models:/wine@champion", Path(tmp) / "wine.onnx")
            console.print(f"exported ONNX: {exported.stat().st_size:,} bytes")
        except ModelwardError as exc:  # e.g. a model type ONNX cannot express
            console.print(f"ONNX export not available for this model: {exc}")


# -- 5. serve ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rows(dataset: str, *, shift: bool) -> tuple[list[dict[str, Any]], list[int]]:
    frame = mw.data.load(dataset)
    labels = frame.pop("target").astype(int).tolist()
    if shift:
        # Traffic from a new vineyard: stronger wines, more proline, deeper colour.
        frame["alcohol"] = frame["alcohol"] + 1.5
        frame["proline"] = frame["proline"] * 1.6
        frame["color_intensity"] = frame["color_intensity"] * 1.8
    return frame.to_dict(orient="records"), labels


def serve_traffic(dataset: str) -> None:
    """Deploy the champion, start a real server, send traffic and ground truth, stop it."""
    import httpx

    stage("5. Deploy and serve (OIP v2, /predict, /metrics, feedback)")
    client = mw.get_client()
    try:
        client.deployments.get("wine-prod")
        client.deployments.update("wine-prod", model="wine@champion")
    except NotFound:
        client.deployments.create("wine-prod", model="wine@champion")
    port = _free_port()
    env = dict(os.environ, MODELWARD_HOME=str(client.settings.home.resolve()))
    server = subprocess.Popen(
        [sys.executable, "-m", "modelward", "serve", "wine-prod", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if http.get("/v2/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the server did not start: {server.stderr.read().decode()[-500:]}"
                    )
                time.sleep(0.2)
            console.print(f"server ready at {base}")
            sent = 0
            for shift in (False, True):
                rows, labels = _rows(dataset, shift=shift)
                feedback: list[tuple[str, list[int]]] = []
                for start in range(0, len(rows), 10):
                    reply = http.post("/predict", json=rows[start : start + 10])
                    reply.raise_for_status()
                    feedback.append((reply.headers["x-request-id"], labels[start : start + 10]))
                    sent += 1
                client.deployments.add_feedback("wine-prod", feedback)
            meta = http.get("/v2/models/wine-prod").json()
            metrics = http.get("/metrics").text
            requests = sum(
                float(line.rsplit(" ", 1)[1])
                for line in metrics.splitlines()
                if line.startswith("modelward_requests_total{")
            )
            console.print(
                f"sent {sent} /predict requests (model version {meta.get('versions')}); "
                f"/metrics counts {requests:.0f} requests; labels posted for all of them"
            )
    finally:
        server.send_signal(signal.SIGTERM)  # drains in-flight requests, flushes the log
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    console.print("server stopped (SIGTERM, prediction log flushed)")


# -- 6. monitor --------------------------------------------------------------------------------
def monitor() -> None:
    """Watch the deployment: drift, quality and performance per window, alerts, a report."""
    stage("6. Monitor: drift, quality, performance, alerts, report")
    monitoring = mw.get_client().monitoring
    monitoring.create(
        {
            "name": "wine-prod",
            "deployment": "wine-prod",
            "window": {"rows": 178, "lag": 0},
            "alert_rules": [
                {"name": "drift", "metric": "drift.share", "condition": ">= 0.2"},
            ],
            "notifiers": [{"name": "log", "type": "log"}],
        },
        replace=True,
    )
    result = monitoring.run("wine-prod")
    for window in result.windows:
        drift = window.get("drift") or {}
        performance = window.get("performance") or {}
        quality = window.get("quality") or {}
        accuracy = (performance.get("metrics") or {}).get("accuracy")
        baseline = (performance.get("deltas") or {}).get("accuracy")
        console.print(
            f"window of {window.get('rows')} rows: drift {drift.get('verdict')} "
            f"{drift.get('drifted_columns', [])}; quality "
            f"{'ok' if quality.get('passed') else 'issues ' + str(quality.get('failed_columns'))}"
            f"; accuracy {'n/a' if accuracy is None else f'{accuracy:.3f}'}"
            + ("" if baseline is None else f" ({baseline:+.3f} vs the held-out test)")
        )
    for event in result.alerts:
        console.print(f"alert {event.action}: {event.alert.rule} ({event.alert.metric})")
    report = Path(mw.get_client().settings.home) / "reports" / "wine-prod.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    monitoring.write_report("wine-prod", report)
    console.print(f"HTML report: {report.resolve()}")


def main() -> int:
    """Run the whole lifecycle."""
    started = time.perf_counter()
    client = mw.get_client()
    console.print(
        f"store: {client.settings.metadata_uri()}  artifacts: {client.settings.artifact_uri()}"
    )
    dataset = manage_data()
    track_experiments()
    version = train_and_select(dataset)
    registry(version)
    serve_traffic(dataset)
    monitor()
    mw.flush()
    console.print(f"[green]lifecycle demo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
