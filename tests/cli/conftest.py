"""Fixtures for CLI tests: run ``modelward`` in-process and a store with a few runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelward.cli.main import main
from modelward.client import Client
from modelward.config import Settings
from modelward.entities import RunStatus


@dataclass
class Result:
    """What one ``modelward`` invocation printed and how it exited."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """The standard output parsed as JSON."""
        return json.loads(self.out)


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run ``modelward ARGS…`` through its real entry point and capture the outcome."""
    for name in ("MODELWARD_HOME", "MODELWARD_URI", "MODELWARD_ARTIFACTS"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> Result:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(list(args))
        out, err = capsys.readouterr()
        code = info.value.code
        return Result(code if isinstance(code, int) else 1, out, err)

    return run


@dataclass
class Populated:
    """A store with experiment ``exp`` holding runs ``good``, ``bad`` and ``child``."""

    uri: str
    experiment_id: str
    ids: dict[str, str]

    def args(self, *args: str) -> tuple[str, ...]:
        """``--uri URI`` followed by ``args``."""
        return ("--uri", self.uri, *args)


@pytest.fixture
def populated(sqlite_uri: str, tmp_path: Path) -> Populated:
    """Runs with params, tags and metrics (NaN included) in a fresh SQLite store."""
    settings = Settings.defaults(system_metrics=False, capture_environment=False)
    with Client(sqlite_uri, artifacts=str(tmp_path / "artifacts"), settings=settings) as client:
        store = client.store
        exp = store.create_experiment("exp", tags={"team": "vision"})
        store.create_experiment("empty")
        good = store.create_run(exp.id, name="good", start_time=1000, tags={"k": "v"})
        bad = store.create_run(exp.id, name="bad", start_time=2000)
        child = store.create_run(exp.id, name="child", start_time=3000, parent_id=good.id)
        store.log_params(good.id, {"lr": "0.1", "depth": "3"})
        store.log_params(bad.id, {"lr": "0.5", "depth": "3"})
        store.log_metrics(
            [
                (good.id, "acc", 0.7, 0, 1000),
                (good.id, "acc", 0.9, 1, 1100),
                (bad.id, "acc", 0.4, 0, 2000),
                (bad.id, "loss", float("nan"), 0, 2000),
                (good.id, "system/cpu_percent", 5.0, 0, 1000),
            ]
        )
        for run, status in ((good, RunStatus.FINISHED), (bad, RunStatus.FAILED)):
            store.set_run_status(run.id, status, end_time=run.start_time + 65_000)
        store.set_run_status(child.id, RunStatus.FINISHED, end_time=4000)
    return Populated(sqlite_uri, exp.id, {"good": good.id, "bad": bad.id, "child": child.id})


# Model fixtures for `modelward models …` tests: an embedded client, a run, a pipeline.
from tests.model_fixtures import client, frame, labels, numeric_xy, pipeline, run_id  # noqa: E402

# Training fixtures for `modelward train` tests: a datasets stand-in and spec factories.
from tests.training_fixtures import training_client, wine_spec  # noqa: E402

__all__ = [
    "client",
    "frame",
    "labels",
    "numeric_xy",
    "pipeline",
    "run_id",
    "training_client",
    "wine_spec",
]
