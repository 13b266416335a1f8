"""Lineage: runs record the versions they read; prepared versions name their parents."""

from __future__ import annotations

import pandas as pd
import pytest

from modelward.datasets import DatasetService
from modelward.errors import NotFound
from modelward.store.metadata.base import MetadataStore


def _run(store: MetadataStore) -> str:
    return store.create_run(store.create_experiment("e").id).id


def test_a_run_records_its_inputs_with_roles_and_splits(
    service: DatasetService, sqlite_store: MetadataStore
) -> None:
    run_id = _run(sqlite_store)
    raw = service.ingest(pd.DataFrame({"a": range(10)}), name="raw").version
    service.split(raw, test=0.2, seed=4)
    recorded = service.log_input(run_id, "raw@latest", "train", split=4)
    assert recorded.ref == "raw@1"
    service.log_input(run_id, raw, "test", split="seed4")
    assert [(v.ref, role) for v, role in service.run_inputs(run_id)] == [
        ("raw@1", "train"),
        ("raw@1", "test"),
    ]
    assert [r.split for r in service.run_input_records(run_id)] == ["seed4", "seed4"]
    assert service.consumers(raw) == [(run_id, "train"), (run_id, "test")]
    with pytest.raises(NotFound, match=r"raw@1 has 0 splits with seed 9 \(seed4\)"):
        service.log_input(run_id, raw, "train", split=9)
    with pytest.raises(NotFound, match="no split 'holdout' of this dataset version"):
        service.log_input(run_id, raw, "train", split="holdout")


def test_from_a_run_to_the_bytes_it_learned_from(
    service: DatasetService, sqlite_store: MetadataStore
) -> None:
    service.ingest(pd.DataFrame({"id": [1, 2], "x": [1.0, None]}), name="raw")
    service.ingest(pd.DataFrame({"id": [1, 2], "r": ["n", "s"]}), name="regions")
    mid = service.prepare(
        {
            "inputs": {"raw": "raw", "regions": "regions"},
            "steps": [{"join": {"with": "regions", "on": "id"}}],
        },
        name="joined",
    ).version
    top = service.prepare(
        {"inputs": {"j": mid.ref}, "steps": ["drop_missing"]}, name="clean"
    ).version
    run_id = _run(sqlite_store)
    service.log_input(run_id, top, "train")
    ((used, role),) = service.run_inputs(run_id)
    assert role == "train"
    tree = service.lineage(used)
    assert [v.ref for v in tree.walk()] == ["clean@1", "joined@1", "raw@1", "regions@1"]
    assert sorted(v.ref for v in tree.sources()) == ["raw@1", "regions@1"]
    blobs = {v.ref: v.artifact_digest for v in tree.sources()}
    assert all(service.blobs.exists(d) for d in blobs.values())
    assert tree.parents[0].recipe is not None
    assert tree.parents[0].recipe["inputs"] == {"raw": "raw@1", "regions": "regions@1"}
