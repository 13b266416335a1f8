"""Artifact entities: content-addressed blobs and the logical paths that name them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ArtifactEntry", "Blob"]


@dataclass(frozen=True, slots=True)
class Blob:
    """A stored blob: its sha256 hex digest and size in bytes."""

    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    """A logical file: ``path`` inside ``scope`` (e.g. ``runs/<id>``) naming a blob.

    Attributes:
        scope: Owner of the path, such as ``runs/<run id>`` or ``datasets/<id>``.
        path: Relative POSIX path inside the scope (``model/model.skops``).
        digest: sha256 hex digest of the content.
        size: Size in bytes.
        created_at: ms since the epoch.
    """

    scope: str
    path: str
    digest: str
    size: int
    created_at: int = 0
