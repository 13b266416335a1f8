"""The modelward lifecycle on the embedded store (./.modelward), end to end.

Run with `make demo`. Each stage prints what it did; the script exits 0 when every stage worked
and can be run again (it adds new runs and versions, reusing what exists).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

import modelward as mw

console = Console()


def stage(title: str) -> None:
    """Print a stage heading."""
    console.rule(f"[bold]{title}")


def track_experiments() -> str:
    """Train a few models on the wine data, tracking params, metrics and artifacts."""
    import numpy as np
    from sklearn.datasets import load_wine
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    stage("1. Track experiments")
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
        with tempfile.TemporaryDirectory() as tmp:
            notes = Path(tmp) / "README.txt"
            notes.write_text("SGD sweep over alpha on the wine dataset.\n")
            mw.log_artifact(notes)
        mw.log_dict({"features": x.shape[1], "classes": classes.tolist()}, "data_summary.json")
    best = mw.search_runs(
        filter=f"parent_id = '{parent.id}'", order_by=["metrics.test_acc DESC"], max_results=1
    ).items[0]
    console.print(
        f"sweep run {parent.id}: best child {best.name} test_acc={best.metrics['test_acc']:.3f}"
    )
    history = mw.get_metric_history(best.id, "train_acc")
    console.print(
        f"train_acc history of the best run: {len(history)} points, last {history[-1].value:.3f}"
    )
    artifacts = [a.path for a in mw.list_artifacts(parent.id)]
    console.print(f"artifacts of the sweep: {artifacts}")
    return parent.id


def package_and_register() -> None:
    """Log a pipeline safely (skops + ONNX), register it, move an alias, load it by alias."""
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    stage("2. Package, register, load by alias")
    x, y = load_wine(return_X_y=True, as_frame=True)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    with mw.start_run(experiment="wine-registry", name="logreg") as run:
        mw.log_metric("train_acc", pipeline.score(x, y))
        info = mw.log_model(pipeline, "model", input_example=x.head(20), onnx=True)
    version = mw.register_model(info, "wine-classifier")
    previous = mw.set_alias("wine-classifier", "champion", version.version)
    parity = (info.manifest.onnx or {}).get("parity", {})
    console.print(
        f"run {run.id}: registered wine-classifier v{version.version} "
        f"(champion was {previous}); ONNX parity max |diff| {parity.get('max_abs_diff', 0):.1e}"
    )
    predictor = mw.load_model("models:/wine-classifier@champion")
    console.print(
        f"loaded by alias with backend {predictor.backend}: predictions "
        f"{predictor.predict(x.head(5)).tolist()} for labels {y.head(5).tolist()}"
    )
    audit = mw.model_audit("wine-classifier")
    console.print(f"audit log: {len(audit)} entries, last: {audit[-1].action} by {audit[-1].actor}")
    lineage = mw.model_lineage("wine-classifier@champion")
    console.print(f"lineage: run {lineage['run']['name']} metrics {lineage['run']['metrics']}")
    with tempfile.TemporaryDirectory() as tmp:
        exported = mw.export_model("models:/wine-classifier@champion", Path(tmp) / "wine.onnx")
        console.print(f"exported ONNX: {exported.stat().st_size:,} bytes")


def main() -> int:
    """Run every stage that exists so far."""
    started = time.perf_counter()
    client = mw.get_client()
    console.print(
        f"store: {client.settings.metadata_uri()}  artifacts: {client.settings.artifact_uri()}"
    )
    track_experiments()
    package_and_register()
    mw.flush()
    console.print(f"[green]lifecycle demo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
