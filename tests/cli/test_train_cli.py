"""``modelward train``: a spec file in, JSON or tables out, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelward.client import Client


@pytest.fixture
def cli(
    training_client: Client, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI against the training client's store (wine and diabetes ingested)."""
    from modelward.cli.main import main

    base = [
        "--uri",
        training_client.settings.metadata_uri(),
        "--artifacts",
        training_client.settings.artifact_uri(),
        "--home",
        str(training_client.settings.home),
    ]

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main([*base, *args])
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return run


def _write(tmp_path: Path, spec: dict[str, Any]) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def test_train_json_output_and_registration(
    cli: Callable[..., tuple[int, str, str]], wine_spec: Callable[..., Any], tmp_path: Path
) -> None:
    code, out, err = cli(
        "train", _write(tmp_path, wine_spec()), "--register", "wine", "--json", "--workers", "1"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "FINISHED"
    assert data["registered"] == {"name": "wine", "version": 1}
    assert len(data["leaderboard"]) == 4
    assert data["winner"]["run_id"] == data["leaderboard"][0]["run_id"]


def test_train_prints_a_leaderboard_for_people(
    cli: Callable[..., tuple[int, str, str]], wine_spec: Callable[..., Any], tmp_path: Path
) -> None:
    code, out, err = cli("train", _write(tmp_path, wine_spec(budget={"max_trials": 2})))
    assert code == 0, err
    assert "leaderboard (2 trials, best first)" in out
    assert "winner" in out
    assert "test (wine@1): accuracy" in out


def test_train_errors_are_one_line(
    cli: Callable[..., tuple[int, str, str]], wine_spec: Callable[..., Any], tmp_path: Path
) -> None:
    code, _, err = cli("train", _write(tmp_path, wine_spec(cv={"folds": 1})))
    assert code == 1
    assert err.startswith("error: ")
    assert "cv.folds" in err
    assert err.count("\n") == 1
    code, _, err = cli("train", str(tmp_path / "missing.yaml"))
    assert code == 1
    assert "does not exist" in err
    code, _, err = cli(
        "train", _write(tmp_path, wine_spec()), "--executor", "ray", "--address", "127.0.0.1:9"
    )
    if "pip install 'modelward[ray]'" not in err:
        assert code == 1
        assert "cannot reach the Ray cluster at 127.0.0.1:9" in err


def test_ctrl_c_keeps_finished_trials_and_prints_how_to_resume(
    training_client: Client, wine_spec: Callable[..., Any], tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = wine_spec(
        candidates=[
            {
                "name": "forest",
                "estimator": "sklearn.ensemble.RandomForestClassifier",
                "params": {"n_estimators": 150},
                "space": {"max_depth": list(range(2, 30))},
            }
        ]
    )
    settings = training_client.settings
    argv = [
        "--uri",
        settings.metadata_uri(),
        "--artifacts",
        settings.artifact_uri(),
        "--home",
        str(settings.home),
        "train",
        _write(tmp_path, spec),
        "--workers",
        "2",
    ]
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from modelward.cli.main import main; main(sys.argv[1:])"
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    child = subprocess.Popen(
        [sys.executable, "-c", code, *argv], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = training_client.tracking.search_runs(filter="status = 'FINISHED'").items
            if any(r.parent_id for r in runs):
                break
            assert child.poll() is None, "the search ended before it could be interrupted"
            time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130
    parents = [r for r in training_client.tracking.search_runs().items if r.parent_id is None]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.status.value == "KILLED"
    assert f"resume with: modelward train {tmp_path / 'spec.yaml'} --resume {parent.id}" in err
    children = training_client.tracking.search_runs(filter=f"parent_id = '{parent.id}'").items
    statuses = {c.status.value for c in children}
    assert "FINISHED" in statuses
    assert statuses <= {"FINISHED", "KILLED"}
