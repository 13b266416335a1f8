"""Loading: every URI form, digest checks (tampered, swapped, missing files), format and
environment checks, the cache."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelward.client import Client
from modelward.entities import ArtifactEntry
from modelward.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from modelward.models import EnvironmentMismatchWarning
from modelward.models.manifest import MANIFEST_FILE


@pytest.fixture
def logged(client: Client, run_id: str, pipeline: Any, frame: Any) -> Any:
    return client.models.log_model(pipeline, "model", run_id=run_id, input_example=frame.head())


def _entry(client: Client, run_id: str, path: str) -> ArtifactEntry:
    return client.store.get_artifact_entry(f"runs/{run_id}", path)


def test_every_uri_form_loads_the_same_model(
    client: Client, run_id: str, logged: Any, frame: Any, pipeline: Any, tmp_path: Path
) -> None:
    client.registry.register(logged.uri, "churn", alias="champion")
    local = tmp_path / "local-model"
    client.models.save_model(pipeline, local, input_example=frame.head())
    expected = pipeline.predict(frame)
    for uri in [
        logged.uri,
        "models:/churn/1",
        "models:/churn@champion",
        "models:/churn/latest",
        str(local),
        local,
    ]:
        np.testing.assert_array_equal(client.models.load_model(uri).predict(frame), expected)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("runs:/nothex/model", "is not a run id"),
        ("models:/churn", "expected models:/NAME/VERSION"),
        ("models:/churn/0", "is not a version number"),
        ("models:/churn@", "expected models:/NAME@ALIAS"),
        ("s3://bucket/model", "unknown scheme"),
    ],
)
def test_malformed_uris_are_invalid(client: Client, uri: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        client.models.load_model(uri)


def test_model_name_taken_in_run(client: Client, run_id: str, logged: Any, pipeline: Any) -> None:
    with pytest.raises(AlreadyExists, match="already has a model at 'model'"):
        client.models.log_model(pipeline, "model", run_id=run_id)
    with pytest.raises(InvalidInput, match="plain relative path"):
        client.models.log_model(pipeline, "../escape", run_id=run_id)


def test_tampered_blob_is_an_integrity_error(client: Client, run_id: str, logged: Any) -> None:
    blob = client.blobs.local_path(_entry(client, run_id, "model/model.skops").digest)
    assert blob is not None
    os.chmod(blob, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="is corrupted"):
        client.models.load_model(logged.uri)
    assert not any(client.models.cache_dir.glob("*/model.skops"))


def test_swapped_file_is_caught_by_the_manifest(client: Client, run_id: str, logged: Any) -> None:
    other = client.artifacts.log_bytes(f"runs/{run_id}", b"not a model", "decoy.bin")
    good = _entry(client, run_id, "model/model.skops")
    client.store.put_artifact_entries(
        [ArtifactEntry(good.scope, good.path, other.digest, other.size, good.created_at)]
    )
    with pytest.raises(IntegrityError, match="does not match its manifest digest"):
        client.models.load_model(logged.uri)


def test_missing_file_is_caught(client: Client, run_id: str, logged: Any) -> None:
    client.store.delete_artifact_entries(f"runs/{run_id}", "model/model.skops")
    with pytest.raises(IntegrityError, match=r"incomplete: model.skops"):
        client.models.load_model(logged.uri)


def test_missing_manifest(client: Client, run_id: str, logged: Any) -> None:
    client.store.delete_artifact_entries(f"runs/{run_id}", f"model/{MANIFEST_FILE}")
    with pytest.raises(NotFound, match=r"has files but no modelward-model.json"):
        client.models.load_model(logged.uri)
    with pytest.raises(NotFound, match="there is no model at"):
        client.models.load_model(f"runs:/{run_id}/nothing")


def test_manifest_changed_after_registration(client: Client, run_id: str, logged: Any) -> None:
    client.registry.register(logged.uri, "churn")
    doc = json.loads(client.artifacts.read_bytes(f"runs/{run_id}", f"model/{MANIFEST_FILE}"))
    doc["flavor_options"]["types_needing_trust"] = []
    forged = client.artifacts.log_bytes(f"runs/{run_id}", json.dumps(doc).encode(), "forged.json")
    entry = _entry(client, run_id, f"model/{MANIFEST_FILE}")
    client.store.put_artifact_entries(
        [ArtifactEntry(entry.scope, entry.path, forged.digest, forged.size, entry.created_at)]
    )
    with pytest.raises(IntegrityError, match="changed since it was registered"):
        client.models.load_model("models:/churn/1")


def test_local_directory_tampering(
    client: Client, pipeline: Any, frame: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m"
    client.models.save_model(pipeline, path, input_example=frame.head())
    (path / "extra.py").write_text("import os")
    with pytest.raises(IntegrityError, match=r"extra.py is not listed"):
        client.models.load_model(path)
    (path / "extra.py").unlink()
    data = bytearray((path / "model.skops").read_bytes())
    data[-1] ^= 1
    (path / "model.skops").write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"model.skops changed"):
        client.models.load_model(path)
    (path / "model.skops").unlink()
    with pytest.raises(IntegrityError, match=r"model.skops is missing"):
        client.models.load_model(path)
    (path / MANIFEST_FILE).unlink()
    with pytest.raises(NotFound, match="not a modelward model"):
        client.models.load_model(path)


def test_newer_format_version_is_refused(
    client: Client, pipeline: Any, frame: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m"
    client.models.save_model(pipeline, path, input_example=frame.head())
    doc = json.loads((path / MANIFEST_FILE).read_text())
    doc["format_version"] = 99
    (path / MANIFEST_FILE).write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match="model format 99, newer than this modelward reads"):
        client.models.load_model(path)
    (path / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(IntegrityError, match="not valid JSON"):
        client.models.load_model(path)


def test_save_into_non_empty_folder(client: Client, pipeline: Any, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    with pytest.raises(AlreadyExists, match="not empty"):
        client.models.save_model(pipeline, tmp_path / "x")


def test_environment_difference_warns(
    client: Client, pipeline: Any, frame: Any, tmp_path: Path
) -> None:
    path = tmp_path / "m"
    client.models.save_model(pipeline, path, input_example=frame.head())
    doc = json.loads((path / MANIFEST_FILE).read_text())
    doc["environment"]["packages"]["scikit-learn"] = "0.24.2"
    doc["environment"]["python"] = "3.8.10"
    (path / MANIFEST_FILE).write_text(json.dumps(doc))
    with pytest.warns(
        EnvironmentMismatchWarning,
        match=r"Python 3.8.10 when saved.*scikit-learn 0.24.2 when saved",
    ):
        predictor = client.models.load_model(path)
    assert predictor.predict(frame.head(2)).shape == (2,)


def test_cache_is_keyed_by_manifest_digest_and_repaired(
    client: Client, logged: Any, frame: Any
) -> None:
    client.models.load_model(logged.uri)
    cached = client.models.cache_dir / logged.manifest_digest
    assert (cached / "model.skops").is_file()
    (cached / "model.skops").write_bytes(b"damaged")
    predictor = client.models.load_model(logged.uri)
    assert predictor.predict(frame.head(2)).shape == (2,)
    assert (cached / "model.skops").read_bytes() != b"damaged"
