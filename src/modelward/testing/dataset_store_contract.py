"""The contract every :class:`~modelward.store.metadata.datasets.DatasetStore` passes.

Use it like :mod:`modelward.testing.metadata_contract`: import the test functions into a test
module that provides a ``store`` fixture yielding a fresh, empty, migrated store::

    from modelward.testing.dataset_store_contract import *  # noqa: F403

modelward runs it on SQLite always and on PostgreSQL when ``MODELWARD_TEST_POSTGRES_URL`` is set
(``tests/store/metadata/test_dataset_contract.py``). Concurrent numbering across processes is
tested separately (``tests/store/metadata/sql/test_dataset_races.py``).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace

import pytest

from modelward.entities import ColumnSchema, NewDatasetVersion
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.store.metadata.base import MetadataStore

__all__ = [
    "test_find_by_digest_and_by_source_fingerprint",
    "test_identical_digest_returns_the_existing_version",
    "test_list_datasets_summarises_each_name",
    "test_parents_are_recorded_as_refs_and_must_exist",
    "test_run_inputs_record_role_and_split",
    "test_run_inputs_reject_unknown_run_version_or_split",
    "test_source_sizes_hint",
    "test_splits_are_idempotent_and_names_unique_per_version",
    "test_threads_adding_versions_get_distinct_numbers",
    "test_unknown_names_and_versions_raise_not_found",
    "test_version_records_every_field_and_its_artifact_entry",
    "test_versions_are_numbered_per_name",
]


def new_version(tag: str, **changes: object) -> NewDatasetVersion:
    """A version draft whose digests derive from ``tag``."""
    digest = hashlib.sha256(tag.encode()).hexdigest()
    base = NewDatasetVersion(
        digest=digest,
        rows=10,
        size=100,
        artifact_digest=hashlib.sha256(b"blob" + tag.encode()).hexdigest(),
        schema=(ColumnSchema("a", "int64", False), ColumnSchema("b", "string", True)),
        profile={"format": "test", "columns": []},
        source={"kind": "file", "path": f"/data/{tag}.csv", "bytes": 1234},
        source_fingerprint=hashlib.sha256(b"src" + tag.encode()).hexdigest(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _run(store: MetadataStore) -> str:
    experiment = store.create_experiment("datasets-contract")
    return store.create_run(experiment.id, name="reader").id


def test_versions_are_numbered_per_name(store: MetadataStore) -> None:
    """Each name numbers its versions from 1; the newest is the default."""
    first, created1 = store.create_dataset_version("wine", new_version("w1"))
    second, created2 = store.create_dataset_version("wine", new_version("w2"))
    other, _ = store.create_dataset_version("iris", new_version("w1"))
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert created1
    assert created2
    assert (first.ref, second.ref, other.ref) == ("wine@1", "wine@2", "iris@1")
    assert store.get_dataset_version("wine").id == second.id
    assert store.get_dataset_version("wine", 1).id == first.id
    assert [v.version for v in store.list_dataset_versions("wine")] == [1, 2]


def test_identical_digest_returns_the_existing_version(store: MetadataStore) -> None:
    """Adding content a name already holds returns that version, unchanged."""
    first, _ = store.create_dataset_version("wine", new_version("same"))
    again, created = store.create_dataset_version(
        "wine", new_version("same", description="other text")
    )
    assert not created
    assert again.id == first.id
    assert again.description is None
    assert len(store.list_dataset_versions("wine")) == 1


def test_version_records_every_field_and_its_artifact_entry(store: MetadataStore) -> None:
    """Every field round-trips, and the Parquet blob is named by an artifact entry."""
    draft = new_version("full", description="the full one", recipe={"steps": []})
    made, _ = store.create_dataset_version("full", draft)
    got = store.get_dataset_version_by_id(made.id)
    assert got == made
    assert got.digest == draft.digest
    assert got.rows == 10
    assert got.size == 100
    assert got.schema == draft.schema
    assert dict(got.source) == dict(draft.source)
    assert dict(got.profile) == dict(draft.profile)
    assert got.recipe == {"steps": []}
    assert got.description == "the full one"
    assert got.source_fingerprint == draft.source_fingerprint
    assert got.created_at > 0
    entry = store.get_artifact_entry(f"datasets/{made.id}", "data.parquet")
    assert (entry.digest, entry.size) == (draft.artifact_digest, 100)
    assert store.blob_referenced(draft.artifact_digest)


def test_unknown_names_and_versions_raise_not_found(store: MetadataStore) -> None:
    """Unknown names, numbers and ids raise NotFound saying what to do."""
    with pytest.raises(NotFound, match="dataset 'nope' does not exist; list datasets with"):
        store.get_dataset_version("nope")
    store.create_dataset_version("wine", new_version("x"))
    with pytest.raises(NotFound, match="dataset 'wine' has no version 7"):
        store.get_dataset_version("wine", 7)
    with pytest.raises(NotFound, match="dataset version 'missing' does not exist"):
        store.get_dataset_version_by_id("missing")
    with pytest.raises(NotFound, match="dataset 'nope' does not exist"):
        store.list_dataset_versions("nope")
    assert store.get_dataset_versions_by_ids(["missing"]) == []
    with pytest.raises(InvalidInput, match="dataset name must not be empty"):
        store.create_dataset_version("", new_version("y"))


def test_find_by_digest_and_by_source_fingerprint(store: MetadataStore) -> None:
    """Versions are found by content digest or by source fingerprint."""
    v1, _ = store.create_dataset_version("wine", new_version("a"))
    v2, _ = store.create_dataset_version("wine", new_version("b", source_fingerprint=None))
    found = store.find_dataset_version("wine", digest=new_version("b").digest)
    assert found is not None
    assert found.id == v2.id
    by_source = store.find_dataset_version(
        "wine", source_fingerprint=new_version("a").source_fingerprint
    )
    assert by_source is not None
    assert by_source.id == v1.id
    assert store.find_dataset_version("wine", digest="0" * 64) is None
    assert store.find_dataset_version("nope", digest=v1.digest) is None
    with pytest.raises(InvalidInput, match="needs a digest or a source fingerprint"):
        store.find_dataset_version("wine")


def test_source_sizes_hint(store: MetadataStore) -> None:
    """Source sizes recorded on a name's versions are listed (the re-ingest hint)."""
    assert store.latest_source_sizes("wine") == []
    store.create_dataset_version("wine", new_version("a"))
    store.create_dataset_version("wine", new_version("b", source={"kind": "dataframe"}))
    assert store.latest_source_sizes("wine") == [1234]


def test_list_datasets_summarises_each_name(store: MetadataStore) -> None:
    """Listing gives each name once, sorted, with counts and the newest version."""
    assert store.list_datasets() == []
    store.create_dataset_version("wine", new_version("a"))
    store.create_dataset_version("wine", new_version("b", rows=20))
    store.create_dataset_version("beer", new_version("c"))
    summaries = {s.name: s for s in store.list_datasets()}
    assert [s.name for s in store.list_datasets()] == ["beer", "wine"]
    assert (summaries["wine"].versions, summaries["wine"].latest) == (2, 2)
    assert summaries["wine"].rows == 20
    assert summaries["wine"].created_at <= summaries["wine"].updated_at


def test_parents_are_recorded_as_refs_and_must_exist(store: MetadataStore) -> None:
    """Parents read back as refs and ids; an unknown parent stores nothing."""
    a, _ = store.create_dataset_version("raw", new_version("a"))
    b, _ = store.create_dataset_version("other", new_version("b"))
    child, _ = store.create_dataset_version(
        "clean", new_version("c", parent_ids=(a.id, b.id), recipe={"name": "clean"})
    )
    got = store.get_dataset_version("clean")
    assert got.parents == ("raw@1", "other@1")
    assert got.parent_ids == (a.id, b.id)
    assert child.parents == got.parents
    with pytest.raises(NotFound, match="parent dataset version"):
        store.create_dataset_version("bad", new_version("d", parent_ids=("missing",)))
    with pytest.raises(NotFound, match="dataset 'bad' does not exist"):
        store.get_dataset_version("bad")


def test_splits_are_idempotent_and_names_unique_per_version(store: MetadataStore) -> None:
    """A split name is unique per version; recording it again is a no-op."""
    version, _ = store.create_dataset_version("wine", new_version("a"))
    kwargs = {
        "seed": 1,
        "fractions": {"train": 0.8, "validation": 0.0, "test": 0.2},
        "stratify": None,
        "counts": {"train": 8, "validation": 0, "test": 2},
        "artifact_digest": "ab" * 32,
        "artifact_size": 42,
    }
    split, created = store.create_dataset_split(version.id, "seed1", **kwargs)  # type: ignore[arg-type]
    assert created
    again, created = store.create_dataset_split(version.id, "seed1", **kwargs)  # type: ignore[arg-type]
    assert not created
    assert again.id == split.id
    assert store.get_dataset_split(version.id, "seed1") == split
    assert split.counts == {"train": 8, "validation": 0, "test": 2}
    assert store.blob_referenced("ab" * 32)
    with pytest.raises(Conflict, match="split 'seed1' of this version already exists"):
        store.create_dataset_split(version.id, "seed1", **{**kwargs, "seed": 2})  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="no split 'other' of this dataset version"):
        store.get_dataset_split(version.id, "other")
    with pytest.raises(NotFound, match="dataset version 'missing' does not exist"):
        store.create_dataset_split("missing", "s", **kwargs)  # type: ignore[arg-type]
    assert [s.name for s in store.list_dataset_splits(version.id)] == ["seed1"]


def test_run_inputs_record_role_and_split(store: MetadataStore) -> None:
    """Runs record the versions they read, once per role, with a split name."""
    run_id = _run(store)
    a, _ = store.create_dataset_version("wine", new_version("a"))
    b, _ = store.create_dataset_version("wine", new_version("b"))
    store.create_dataset_split(
        a.id,
        "seed0",
        seed=0,
        fractions={"train": 1.0, "validation": 0.0, "test": 0.0},
        stratify=None,
        counts={"train": 10},
        artifact_digest="cd" * 32,
    )
    store.log_run_inputs(run_id, [(a.id, "train", "seed0"), (b.id, "test", None)])
    store.log_run_inputs(run_id, [(a.id, "train", "seed0")])  # recorded once
    inputs = store.get_run_inputs(run_id)
    assert [(i.version.ref, i.role, i.split) for i in inputs] == [
        ("wine@1", "train", "seed0"),
        ("wine@2", "test", None),
    ]
    assert store.get_version_consumers(a.id) == [(run_id, "train")]
    assert store.get_run_inputs("no-such-run") == []


def test_run_inputs_reject_unknown_run_version_or_split(store: MetadataStore) -> None:
    """Inputs naming a missing run, version or split are refused whole."""
    run_id = _run(store)
    a, _ = store.create_dataset_version("wine", new_version("a"))
    with pytest.raises(NotFound, match="run 'nope' does not exist"):
        store.log_run_inputs("nope", [(a.id, "train", None)])
    with pytest.raises(NotFound, match="dataset version\\(s\\) missing do not exist"):
        store.log_run_inputs(run_id, [("missing", "train", None)])
    with pytest.raises(NotFound, match="has no split 'seed9'"):
        store.log_run_inputs(run_id, [(a.id, "train", "seed9")])
    with pytest.raises(InvalidInput, match="input role must not be empty"):
        store.log_run_inputs(run_id, [(a.id, "", None)])
    assert store.get_run_inputs(run_id) == []


def test_threads_adding_versions_get_distinct_numbers(store: MetadataStore) -> None:
    """Concurrent writers on one store get distinct numbers."""
    results: list[int] = []
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            version, _ = store.create_dataset_version("busy", new_version(f"t{i}"))
            results.append(version.version)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [1, 2, 3, 4, 5, 6]
