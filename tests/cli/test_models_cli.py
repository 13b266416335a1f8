"""``modelward models …``: register, alias, show, versions, lineage, audit, export, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelward.client import Client


@pytest.fixture
def run_cli(cli: Any, client: Client, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the CLI against the client's store as user bob; return (exit code, out, err)."""
    monkeypatch.setenv("MODELWARD_USER", "bob")
    base = (
        "--uri",
        client.settings.metadata_uri(),
        "--artifacts",
        client.settings.artifact_uri(),
        "--home",
        str(client.settings.home),
    )

    def run(*args: str) -> tuple[int, str, str]:
        result = cli(*base, *args)
        return result.code, result.out, result.err

    return run


@pytest.fixture
def logged(client: Client, run_id: str, pipeline: Any, frame: Any) -> Any:
    return client.models.log_model(
        pipeline, "model", run_id=run_id, input_example=frame.head(20), onnx=True
    )


def test_register_alias_show_versions_audit(run_cli: Any, run_id: str, logged: Any) -> None:
    code, out, _ = run_cli("models", "register", f"{run_id}/model", "churn", "--json")
    assert code == 0
    assert json.loads(out)["version"] == 1
    run_cli("models", "register", logged.uri, "churn", "--alias", "challenger")
    code, out, _ = run_cli("models", "alias", "set", "churn", "champion", "1", "--json")
    assert json.loads(out) == {
        "model": "churn",
        "alias": "champion",
        "version": 1,
        "previous": None,
    }
    code, out, _ = run_cli("models", "alias", "set", "churn", "champion", "2", "--expect", "1")
    assert code == 0
    assert "was 1" in out

    code, out, _ = run_cli("models", "list", "--json")
    (model,) = json.loads(out)
    assert model["aliases"] == {"champion": 2, "challenger": 2}
    code, out, _ = run_cli("models", "show", "churn", "--json")
    assert [v["version"] for v in json.loads(out)["versions"]] == [2, 1]
    code, out, _ = run_cli("models", "versions", "churn")
    assert code == 0
    assert "READY" in out

    code, out, _ = run_cli("models", "alias", "delete", "churn", "challenger", "--json")
    assert json.loads(out)["previous"] == 2
    code, out, _ = run_cli("models", "audit", "churn", "--json")
    entries = json.loads(out)
    assert {e["actor"] for e in entries} == {"bob"}
    assert [e["action"] for e in entries][-2:] == ["set_alias", "delete_alias"]
    code, out, _ = run_cli("models", "audit", "churn")
    assert code == 0
    assert "delete_alias" in out


def test_lineage_and_export(run_cli: Any, run_id: str, logged: Any, tmp_path: Path) -> None:
    run_cli("models", "register", logged.uri, "churn", "--alias", "champion")
    code, out, _ = run_cli("models", "lineage", "churn@champion", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["run"]["id"] == run_id
    code, out, _ = run_cli("models", "lineage", "churn@champion")
    assert code == 0
    assert "churn version 1" in out
    assert "params" in out
    target = tmp_path / "exported.onnx"
    code, out, _ = run_cli(
        "models", "export", "churn@champion", "--format", "onnx", "--output", str(target), "--json"
    )
    assert code == 0
    assert json.loads(out)["path"] == str(target)
    assert target.stat().st_size > 0


def test_archive_restore_delete(run_cli: Any, logged: Any) -> None:
    run_cli("models", "register", logged.uri, "churn", "--alias", "champion")
    code, _, err = run_cli("models", "archive", "churn", "1")
    assert code == 1
    assert "target of alias(es) champion" in err
    code, out, _ = run_cli("models", "archive", "churn", "1", "--force", "--json")
    assert json.loads(out)["status"] == "ARCHIVED"
    code, out, _ = run_cli("models", "restore", "churn", "1", "--json")
    assert json.loads(out)["status"] == "READY"
    code, out, _ = run_cli("models", "delete", "churn", "1", "--json")
    assert json.loads(out)["status"] == "DELETED"
    code, out, _ = run_cli("models", "versions", "churn", "--all", "--json")
    assert [v["status"] for v in json.loads(out)] == ["DELETED"]
    code, out, _ = run_cli("models", "delete", "churn", "--yes", "--json")
    assert json.loads(out) == {"deleted": "churn"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("models", "show", "nope"), "registered model 'nope' does not exist"),
        (("models", "register", "f" * 32 + "/model", "x"), "run '" + "f" * 32),
        (("models", "register", "not-a-run/model", "x"), "is not a run id"),
        (("models", "alias", "set", "nope", "champion", "1"), "does not exist"),
        (("models", "lineage", "nope@champion"), "does not exist"),
    ],
)
def test_errors_are_one_line(run_cli: Any, args: tuple[str, ...], message: str) -> None:
    code, out, err = run_cli(*args)
    assert code == 1
    assert out == ""
    assert err.startswith("error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
