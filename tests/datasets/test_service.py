"""Reading versions back: references, loading, profiles and export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from modelward.datasets import DatasetService
from modelward.errors import InvalidInput, NotFound

FRAME = pd.DataFrame({"id": [1, 2, 3], "x": [0.5, None, 2.5], "s": ["a", "b", None]})


@pytest.fixture
def two(service: DatasetService) -> DatasetService:
    service.ingest(FRAME, name="d")
    service.ingest(FRAME.iloc[:2], name="d")
    return service


def test_references(two: DatasetService) -> None:
    assert two.get("d").ref == "d@2"
    assert two.get("d@latest").ref == "d@2"
    assert two.get(" d@1 ").ref == "d@1"
    assert [s.to_dict()["ref"] for s in two.list()] == ["d@2"]
    with pytest.raises(InvalidInput, match="dataset versions are numbered from 1"):
        two.get("d@0")
    with pytest.raises(InvalidInput, match="invalid dataset reference 'd@x'"):
        two.get("d@x")
    with pytest.raises(NotFound, match="dataset 'e' does not exist"):
        two.get("e")


def test_load_columns_and_profile(two: DatasetService) -> None:
    frame = two.load("d@1", ["s", "id"])
    assert frame.columns.tolist() == ["s", "id"]
    assert two.load_arrow("d@1").num_rows == 3
    with pytest.raises(
        InvalidInput, match=r"d@1 has no column\(s\) nope; its columns are: id, x, s"
    ):
        two.load("d@1", ["nope"])
    profile = two.profile("d@1")
    assert profile.row_count == 3
    assert profile.column("x").nulls == 1
    assert profile.column("x").numeric is not None
    assert profile.column("x").numeric.max == 2.5
    assert two.path("d@1").is_file()


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl", ".json"])
def test_export_formats(two: DatasetService, tmp_path: Path, suffix: str) -> None:
    target = tmp_path / "out" / f"d{suffix}"
    assert two.export("d@1", target) == target
    if suffix == ".parquet":
        assert pq.read_table(target).to_pylist() == two.load_arrow("d@1").to_pylist()
    elif suffix == ".csv":
        assert pd.read_csv(target)["id"].tolist() == [1, 2, 3]
    elif suffix == ".jsonl":
        rows = [json.loads(line) for line in target.read_text().splitlines()]
        assert rows[1] == {"id": 2, "x": None, "s": "b"}
    else:
        assert json.loads(target.read_text())[2] == {"id": 3, "x": 2.5, "s": None}
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_export_errors(two: DatasetService, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"cannot tell the export format from 'd\.xlsx'"):
        two.export("d", tmp_path / "d.xlsx")
    with pytest.raises(InvalidInput, match="is a folder; give a file name"):
        two.export("d", tmp_path, format="csv")


def test_remote_stores_are_read_through_a_verified_cache(
    sqlite_store: object, tmp_path: Path
) -> None:
    from modelward.store.artifacts.local import LocalArtifactStore

    class Remote(LocalArtifactStore):
        """A store without local paths, like S3."""

        def local_path(self, digest: str) -> None:  # type: ignore[override]
            return None

    work = tmp_path / "work"
    service = DatasetService(sqlite_store, Remote(tmp_path / "remote"), tmp_dir=work)  # type: ignore[arg-type]
    version = service.ingest(FRAME, name="d").version
    path = service.path(version)
    assert path == work / "modelward-dataset-cache" / f"{version.artifact_digest}.parquet"
    assert service.load(version)["id"].tolist() == [1, 2, 3]
    assert service.query("SELECT count(*) AS n FROM d@1").to_pylist() == [{"n": 3}]
    assert service.path(version) == path  # downloaded once
