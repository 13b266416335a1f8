"""Fixtures for dataset tests: a DatasetService on SQLite and a local blob store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelward.datasets import DatasetService
from modelward.store.artifacts.local import LocalArtifactStore
from modelward.store.metadata.base import MetadataStore


@pytest.fixture
def blobs(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "blobs")


@pytest.fixture
def service(
    sqlite_store: MetadataStore, blobs: LocalArtifactStore, tmp_path: Path
) -> DatasetService:
    work = tmp_path / "work"
    work.mkdir()
    return DatasetService(sqlite_store, blobs, tmp_dir=work)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or bytes) to a file under tmp_path/data and return its path."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding=encoding)
        return path

    return _write
