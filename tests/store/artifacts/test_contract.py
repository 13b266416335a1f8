"""Every artifact backend passes the contract suite shipped in modelward.testing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelward.store.artifacts.base import ArtifactStore
from modelward.testing.artifact_store_contract import *  # noqa: F403


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def artifact_store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        from modelward.store.artifacts.local import LocalArtifactStore

        return LocalArtifactStore(tmp_path / "store")
    store: ArtifactStore = request.getfixturevalue("make_s3_store")()
    return store


@pytest.fixture
def corrupt_blob(
    artifact_store: ArtifactStore, request: pytest.FixtureRequest
) -> Callable[[str, bytes], None]:
    """Replace a stored blob's bytes behind the store's back."""
    from modelward.store.artifacts.local import LocalArtifactStore
    from modelward.store.artifacts.s3 import S3ArtifactStore

    def corrupt(digest: str, data: bytes) -> None:
        if isinstance(artifact_store, LocalArtifactStore):
            path = artifact_store.local_path(digest)
            path.chmod(0o644)
            path.write_bytes(data)
        else:
            assert isinstance(artifact_store, S3ArtifactStore)
            client: Any = request.getfixturevalue("s3_server").client()
            client.put_object(
                Bucket=artifact_store.bucket, Key=artifact_store._key(digest), Body=data
            )

    return corrupt
