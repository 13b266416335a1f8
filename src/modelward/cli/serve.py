"""``modelward serve``, ``modelward predict`` and ``modelward feedback``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from modelward.cli._context import emit, get_context, json_option

__all__ = ["feedback", "predict", "serve", "worker_app"]

#: Environment variable carrying the options to worker processes (``--workers`` > 1).
_OPTIONS_ENV = "MODELWARD_SERVE_OPTIONS"


@click.command("serve")
@click.argument("target")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", "-p", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--poll-interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between checks for a new version.",
)
@click.option("--max-batch-size", type=click.IntRange(1), help="Override the deployment's.")
@click.option("--max-wait-ms", type=click.FloatRange(0, 10_000), help="Override the deployment's.")
@click.option(
    "--backend",
    type=click.Choice(["auto", "native", "onnx"]),
    default="auto",
    show_default=True,
    help="auto: ONNX Runtime when the model has a verified ONNX export.",
)
@click.option("--no-prediction-log", is_flag=True, help="Do not log predictions.")
@click.option("--trust", is_flag=True, help="Allow models that can run code (pickle, custom).")
@click.option(
    "--graceful-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds in-flight requests get to finish on SIGTERM.",
)
def serve(
    target: str,
    host: str,
    port: int,
    workers: int,
    poll_interval: float,
    max_batch_size: int | None,
    max_wait_ms: float | None,
    backend: str,
    no_prediction_log: bool,
    trust: bool,
    graceful_timeout: float,
) -> None:
    """Serve deployment TARGET, or a model URI (models:/NAME@ALIAS), over HTTP.

    Endpoints: POST /v2/models/NAME/infer (Open Inference Protocol), POST /invocations
    (MLflow), POST /predict (records), GET /metrics, GET /v2/health/ready. See docs/serving.md.
    """
    import logging

    from modelward.entities.deployments import Batching
    from modelward.serving.runner import ServeOptions, run, uvicorn_config

    ctx = get_context()
    batching = None
    if max_batch_size is not None or max_wait_ms is not None:
        base = Batching()
        batching = Batching(
            max_batch_size or base.max_batch_size,
            max_wait_ms if max_wait_ms is not None else base.max_wait_ms,
        )
    options = ServeOptions(
        target=target,
        host=host,
        port=port,
        workers=workers,
        poll_interval=poll_interval,
        batching=batching,
        backend=backend,
        prediction_log=not no_prediction_log,
        trust=trust,
        graceful_timeout=graceful_timeout,
    )
    level = ctx.settings.log_level
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"serving {target} on http://{host}:{port} (Ctrl-C or SIGTERM to stop)", err=True)
    if workers == 1:
        client = ctx.client
        if not target.startswith("models:/"):
            client.deployments.get(target)  # fail now, with the CLI's one-line error
        run(client, options, log_level=level.lower())
        return
    import uvicorn

    # Worker processes rebuild the client from the environment: pass the flags through it.
    settings = ctx.settings
    os.environ.update(
        {
            _OPTIONS_ENV: json.dumps(options.to_dict()),
            "MODELWARD_URI": settings.metadata_uri(),
            "MODELWARD_ARTIFACTS": settings.artifact_uri(),
            "MODELWARD_HOME": str(settings.home),
        }
    )
    fast = uvicorn_config("modelward.cli.serve:worker_app", options, factory=True)
    uvicorn.run(
        "modelward.cli.serve:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop=fast.loop,
        http=fast.http,
        lifespan="on",
        access_log=False,
        log_level=level.lower(),
        timeout_graceful_shutdown=int(graceful_timeout),
    )


def worker_app() -> Any:
    """The app of one worker process (``--workers`` > 1); reads its options from the env."""
    from modelward.client import Client
    from modelward.config import Settings
    from modelward.serving.runner import ServeOptions, build_app

    options = ServeOptions.from_dict(json.loads(os.environ[_OPTIONS_ENV]))
    client = Client(settings=Settings.from_env(system_metrics=False))
    return build_app(client, options)


@click.command("predict")
@click.argument("model_uri")
@click.option(
    "--input",
    "-i",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Parquet or CSV file.",
)
@click.option(
    "--output",
    "-o",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Parquet file to write.",
)
@click.option(
    "--chunk-rows",
    default=50_000,
    show_default=True,
    type=click.IntRange(1),
    help="Rows per chunk.",
)
@click.option("--no-inputs", is_flag=True, help="Write only the predictions.")
@click.option(
    "--backend", type=click.Choice(["auto", "native", "onnx"]), default="auto", show_default=True
)
@click.option("--trust", is_flag=True, help="Allow models that can run code (pickle, custom).")
@json_option
def predict(
    model_uri: str,
    input_path: str,
    output_path: str,
    chunk_rows: int,
    no_inputs: bool,
    backend: str,
    trust: bool,
    as_json: bool,
) -> None:
    """Predict every row of a file with MODEL_URI, streaming it in chunks."""
    import time

    from modelward.deployments.batch import count_rows, predict_file

    client = get_context().client
    predictor = client.models.load_model(model_uri, backend=backend, trust=trust)  # type: ignore[arg-type]
    source = Path(input_path)
    total = count_rows(source)
    started = time.perf_counter()
    if as_json:
        rows = predict_file(
            predictor, source, output_path, chunk_rows=chunk_rows, keep_inputs=not no_inputs
        )
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("predicting"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("predict", total=total)
            rows = predict_file(
                predictor,
                source,
                output_path,
                chunk_rows=chunk_rows,
                keep_inputs=not no_inputs,
                progress=lambda done: bar.update(task, completed=done),
            )
    seconds = time.perf_counter() - started
    emit(
        {"rows": rows, "output": output_path, "seconds": round(seconds, 3)},
        as_json,
        lambda c: c.print(f"wrote {rows:,} predictions to {output_path} in {seconds:.1f} s"),
    )


@click.command("feedback")
@click.argument("deployment")
@click.option("--request-id", "-r", default=None, help="The x-request-id of the prediction.")
@click.option("--label", "-l", default=None, help="The true value (JSON, or plain text).")
@click.option(
    "--file",
    "-f",
    "file",
    type=click.Path(dir_okay=False, exists=True),
    help="CSV or JSON lines with request_id and label columns.",
)
@json_option
def feedback(
    deployment: str, request_id: str | None, label: str | None, file: str | None, as_json: bool
) -> None:
    """Attach ground-truth labels to logged predictions of DEPLOYMENT by request id."""
    pairs: list[tuple[str, Any]] = []
    if request_id is not None:
        if label is None:
            raise click.UsageError("--request-id needs --label")
        pairs.append((request_id, _value(label)))
    if file is not None:
        pairs.extend(_read_labels(Path(file)))
    if not pairs:
        raise click.UsageError("give --request-id and --label, or --file")
    count = get_context().client.deployments.add_feedback(deployment, pairs)
    emit(
        {"accepted": count}, as_json, lambda c: c.print(f"stored {count} label(s) for {deployment}")
    )


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _read_labels(path: Path) -> list[tuple[str, Any]]:
    import csv

    out: list[tuple[str, Any]] = []
    with path.open(newline="", encoding="utf-8") as fh:
        if path.suffix.lower() in {".jsonl", ".json", ".ndjson"}:
            for line in fh:
                if line.strip():
                    item = json.loads(line)
                    out.append((str(item["request_id"]), item["label"]))
            return out
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"request_id", "label"} <= set(reader.fieldnames):
            raise click.UsageError(f"{path.name} needs request_id and label columns")
        out.extend((row["request_id"], _value(row["label"])) for row in reader)
    return out
