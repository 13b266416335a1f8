"""RegistryService: register, aliases, archive/delete, audit with the actor, lineage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from modelward.client import Client
from modelward.entities.models import VersionStatus
from modelward.errors import NotFound
from modelward.registry.lineage import build_lineage


@pytest.fixture
def logged(client: Client, run_id: str, pipeline: Any, frame: Any) -> Any:
    return client.models.log_model(pipeline, "model", run_id=run_id, input_example=frame.head())


def test_register_points_at_the_run_and_records_the_digest(
    client: Client, run_id: str, logged: Any
) -> None:
    v = client.registry.register(f"{run_id}/model", "churn", description="v1", tags={"cv": 0.9})
    assert (v.name, v.version, v.status) == ("churn", 1, VersionStatus.READY)
    assert v.source == logged.uri
    assert v.run_id == run_id
    assert v.manifest_digest == logged.manifest_digest
    assert v.flavor == "sklearn"
    assert v.created_by == "alice"
    assert v.tags == {"cv": "0.9"}
    # Nothing was copied: the run's files are the only copy.
    assert [e.scope for e in client.store.list_artifact_entries(f"runs/{run_id}")] == [
        f"runs/{run_id}"
    ] * 2


def test_registering_a_run_without_that_model_is_not_found(
    client: Client, run_id: str, logged: Any
) -> None:
    with pytest.raises(NotFound, match="there is no model at"):
        client.registry.register(f"runs:/{run_id}/other", "churn")
    with pytest.raises(NotFound, match="run '" + "f" * 32):
        client.registry.register("f" * 32 + "/model", "churn")
    with pytest.raises(NotFound, match="does not exist"):
        client.registry.get_model("churn")


def test_alias_lifecycle_and_audit(client: Client, logged: Any) -> None:
    reg = client.registry
    reg.register(logged.uri, "churn", alias="champion")
    reg.register(logged.uri, "churn")
    assert reg.set_alias("churn", "challenger", 2) is None
    assert reg.set_alias("churn", "champion", 2) == 1
    assert reg.resolve("churn@champion").version == 2
    assert reg.get_version("churn", "latest").version == 2
    assert reg.delete_alias("churn", "challenger") == 2
    assert reg.get_model("churn").aliases == {"champion": 2}
    entries = reg.audit("churn")
    assert {e.actor for e in entries} == {"alice"}
    assert [e.action for e in entries] == [
        "create_model",
        "create_version",
        "set_alias",
        "create_version",
        "set_alias",
        "set_alias",
        "delete_alias",
    ]
    with pytest.raises(NotFound, match="does not exist"):
        reg.audit("nope")


def test_latest_skips_archived_and_deleted(client: Client, logged: Any) -> None:
    reg = client.registry
    for _ in range(3):
        reg.register(logged.uri, "churn")
    reg.archive_version("churn", 3)
    reg.delete_version("churn", 2)
    assert reg.resolve("churn/latest").version == 1
    assert client.models.load_model("models:/churn/3").predict  # archived: still loadable
    with pytest.raises(NotFound, match="version 2 of 'churn' is deleted"):
        client.models.load_model("models:/churn/2")
    reg.delete_version("churn", 1)
    with pytest.raises(NotFound, match="has no READY version"):
        reg.resolve("churn")


def test_alias_on_a_deleted_version_is_reported(client: Client, logged: Any) -> None:
    import sqlalchemy as sa

    from modelward.store.metadata.sql.tables.registry import model_versions

    reg = client.registry
    reg.register(logged.uri, "churn", alias="champion")
    # Only a direct database edit can leave this state; loading must still refuse clearly.
    with client.store.database.write() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.update(model_versions).values(status="DELETED"))
    with pytest.raises(NotFound, match="points at version 1, which is deleted"):
        client.models.load_model("models:/churn@champion")


def test_delete_model_keeps_run_files_and_audit(client: Client, run_id: str, logged: Any) -> None:
    client.registry.register(logged.uri, "churn", alias="champion")
    client.registry.delete_model("churn")
    assert client.registry.list_models() == []
    assert client.models.load_model(logged.uri).predict
    assert client.registry.audit("churn")[-1].action == "delete_model"


def test_lineage_walks_to_run_code_environment(client: Client, run_id: str, logged: Any) -> None:
    client.tracking.set_tags(run_id, {"mw.source.git_commit": "abc123", "other": "x"})
    client.tracking.end_run(run_id)
    client.registry.register(logged.uri, "churn", alias="champion")
    lineage = client.registry.lineage("churn@champion")
    assert lineage["version"]["version"] == 1
    assert lineage["model"]["flavor"] == "sklearn"
    run = lineage["run"]
    assert run["id"] == run_id
    assert run["params"] == {"C": "1.0"}
    assert run["metrics"]["accuracy"] == pytest.approx(0.93)
    assert run["code"]["git_commit"] == "abc123"
    assert "other" not in run["code"]
    assert lineage["environment"]["python"]
    assert "scikit-learn" in lineage["environment"]["packages"]
    assert lineage["datasets"]["inputs"] == []
    assert lineage["datasets"]["note"] == "no dataset inputs recorded for the run"


def test_lineage_walks_from_the_model_to_the_data_it_learned_from(
    client: Client, run_id: str, logged: Any, frame: Any
) -> None:
    datasets = client.datasets
    raw = datasets.ingest(frame, name="raw").version
    clean = datasets.prepare(
        {"inputs": {"raw": raw.ref}, "steps": ["drop_duplicates"]}, name="clean"
    )
    datasets.log_input(run_id, clean.version, "train")
    client.registry.register(logged.uri, "churn", alias="champion")
    section = client.registry.lineage("churn@champion")["datasets"]
    (used,) = section["inputs"]
    assert (used["ref"], used["role"], used["digest"]) == ("clean@1", "train", clean.version.digest)
    assert [p["ref"] for p in used["parents"]] == ["raw@1"]
    assert used["parents"][0]["artifact_digest"] == raw.artifact_digest


@dataclass(frozen=True)
class _DatasetVersion:
    """The fields of modelward.entities.datasets.DatasetVersion that lineage reads."""

    name: str
    version: int
    digest: str
    profile: dict[str, Any] = field(default_factory=lambda: {"big": "never copied"})

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class _Node:
    """The shape of modelward.datasets.lineage.LineageNode."""

    version: _DatasetVersion
    parents: tuple[_Node, ...] = ()
    recipe: dict[str, Any] | None = None


_RAW = _DatasetVersion("raw-customers", 1, "cd" * 32)
_CUSTOMERS = _DatasetVersion("customers", 3, "ab" * 32)


class _FakeDatasets:
    """The two calls lineage makes on the datasets service (DatasetService)."""

    def run_inputs(self, run_id: str) -> list[tuple[_DatasetVersion, str]]:
        return [(_CUSTOMERS, "train")]

    def lineage(self, ref: str) -> _Node:
        assert ref == "customers@3"
        return _Node(_CUSTOMERS, (_Node(_RAW),), {"steps": ["dedup"]})


def test_lineage_includes_dataset_versions_and_parents(
    client: Client, run_id: str, logged: Any
) -> None:
    version = client.registry.register(logged.uri, "churn")
    lineage = build_lineage(client.store, version, datasets=_FakeDatasets(), ref="churn/1")
    (dataset,) = lineage["datasets"]["inputs"]
    assert dataset["ref"] == "customers@3"
    assert dataset["role"] == "train"
    assert "profile" not in dataset
    assert dataset["parents"] == [
        {
            "name": "raw-customers",
            "version": 1,
            "ref": "raw-customers@1",
            "digest": "cd" * 32,
            "recipe": None,
            "parents": [],
        }
    ]
    assert lineage["datasets"]["note"] is None


def test_dataset_inputs_are_recorded_in_the_manifest(
    client: Client, run_id: str, pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "datasets", _FakeDatasets(), raising=False)
    logged = client.models.log_model(pipeline, "withdata", run_id=run_id)
    assert logged.manifest.datasets == [
        {
            "name": "customers",
            "version": 3,
            "ref": "customers@3",
            "digest": "ab" * 32,
            "role": "train",
        }
    ]
