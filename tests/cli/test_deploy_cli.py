"""``modelward deploy``, ``predict`` and ``feedback`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelward.client import Client


@pytest.fixture
def run_cli(cli: Any, client: Client, run_id: str, numeric_xy: Any) -> Any:
    """A registered model ``clf`` (versions 1 and 2, champion -> 1) and a CLI bound to its store."""
    from sklearn.linear_model import LogisticRegression

    x, y = numeric_xy
    for i, c in enumerate((1.0, 0.01)):
        model = LogisticRegression(C=c).fit(x, y)
        logged = client.models.log_model(model, f"m{i}", run_id=run_id, input_example=x[:5])
        client.registry.register(logged.uri, "clf", alias="champion" if i == 0 else "challenger")
    base = (
        "--uri",
        client.settings.metadata_uri(),
        "--artifacts",
        client.settings.artifact_uri(),
        "--home",
        str(client.settings.home),
    )
    return lambda *args: cli(*base, *args)


def test_deploy_lifecycle(run_cli: Any, client: Client) -> None:
    r = run_cli(
        "deploy",
        "create",
        "prod",
        "--model",
        "clf@champion",
        "--canary",
        "clf@challenger:25",
        "--max-batch-size",
        "16",
        "--json",
    )
    assert r.code == 0, r.err
    created = r.json()
    assert created["current_version"] == 1
    assert created["canary_percent"] == 25
    assert created["batching"]["max_batch_size"] == 16
    assert run_cli("deploy", "list").code == 0
    shown = run_cli("deploy", "show", "prod", "--json").json()
    assert shown["canary"]["alias"] == "challenger"
    r = run_cli("deploy", "update", "prod", "--model", "clf/2", "--no-canary", "--json")
    assert r.code == 0
    assert r.json()["current_version"] == 2
    assert r.json()["canary"] is None
    r = run_cli("deploy", "rollback", "prod", "--json")
    assert r.json()["current_version"] == 1
    history = run_cli("deploy", "history", "prod", "--json").json()
    assert [h["action"] for h in history] == ["create", "update", "rollback"]
    again = run_cli("deploy", "rollback", "prod")
    assert again.code == 1
    assert "no earlier version to roll back to" in again.err
    assert run_cli("deploy", "delete", "prod").code == 0
    missing = run_cli("deploy", "show", "prod")
    assert missing.code == 1
    assert "deployment 'prod' does not exist" in missing.err


def test_deploy_create_refuses_bad_references(run_cli: Any) -> None:
    r = run_cli("deploy", "create", "prod", "--model", "clf@nope")
    assert r.code == 1
    assert r.err.startswith("error: ")
    r = run_cli(
        "deploy", "create", "prod", "--model", "clf@champion", "--canary", "clf@challenger:x"
    )
    assert r.code == 2


def test_predict_a_file_and_post_feedback(run_cli: Any, tmp_path: Path, numeric_xy: Any) -> None:
    import pandas as pd
    import pyarrow.parquet as pq

    x, _ = numeric_xy
    names = [f"f{i}" for i in range(x.shape[1])]
    pd.DataFrame(x, columns=names).to_parquet(tmp_path / "in.parquet")
    r = run_cli(
        "predict",
        "models:/clf@champion",
        "-i",
        str(tmp_path / "in.parquet"),
        "-o",
        str(tmp_path / "out.parquet"),
        "--chunk-rows",
        "64",
        "--json",
    )
    assert r.code == 0, r.err
    assert r.json()["rows"] == len(x)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.num_rows == len(x)
    assert "prediction" in out.column_names
    assert set(np.unique(out.column("prediction").to_numpy())) <= {0, 1}

    (tmp_path / "labels.csv").write_text("request_id,label\nr1,1\nr2,0\n")
    assert run_cli("feedback", "prod", "-r", "r3", "-l", "[1, 0]", "--json").json() == {
        "accepted": 1
    }
    assert run_cli("feedback", "prod", "--file", str(tmp_path / "labels.csv"), "--json").json() == {
        "accepted": 2
    }
    assert run_cli("feedback", "prod").code == 2


def test_serve_refuses_an_unknown_deployment(run_cli: Any) -> None:
    r = run_cli("serve", "nope", "--port", "0")
    assert r.code == 1
    assert "deployment 'nope' does not exist" in r.err


def test_json_output_is_plain_json(run_cli: Any) -> None:
    run_cli("deploy", "create", "d", "--model", "clf/1")
    data = json.loads(run_cli("deploy", "list", "--json").out)
    assert data[0]["name"] == "d"
