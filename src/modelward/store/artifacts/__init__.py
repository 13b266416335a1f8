"""Artifact stores (local disk, S3) and the factory that picks one from a location."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelward.store.artifacts.base import ArtifactStore

__all__ = ["open_artifact_store"]


def open_artifact_store(location: str, *, s3_endpoint_url: str | None = None) -> ArtifactStore:
    """Open the artifact store at ``location``: a folder, ``file:///PATH`` or ``s3://BUCKET/PREFIX``."""
    from modelward.errors import InvalidInput

    if not isinstance(location, str) or not location:
        raise InvalidInput("the artifact location is empty; pass a folder or s3://BUCKET/PREFIX")
    if location.startswith("s3://"):
        from modelward.store.artifacts.s3 import S3ArtifactStore

        return S3ArtifactStore(location, endpoint_url=s3_endpoint_url)
    if "://" in location and not location.startswith("file://"):
        raise InvalidInput(
            f"unsupported artifact location {location!r}; use a folder, file:///PATH or s3://BUCKET/PREFIX"
        )
    from pathlib import Path

    from modelward.store.artifacts.local import LocalArtifactStore

    path = location[len("file://") :] if location.startswith("file://") else location
    return LocalArtifactStore(Path(path).expanduser())
