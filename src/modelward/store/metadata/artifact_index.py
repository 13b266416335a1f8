"""The artifact index part of the metadata store contract: logical paths -> blobs."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from modelward.entities import ArtifactEntry

__all__ = ["ArtifactIndexStore"]


class ArtifactIndexStore(abc.ABC):
    """Maps ``(scope, path)`` to content-addressed blobs held by an artifact store."""

    @abc.abstractmethod
    def put_artifact_entries(self, entries: Sequence[ArtifactEntry]) -> None:
        """Insert or replace entries, atomically."""

    @abc.abstractmethod
    def list_artifact_entries(self, scope: str, prefix: str = "") -> list[ArtifactEntry]:
        """Return the entries of a scope whose path starts with ``prefix``, sorted by path."""

    @abc.abstractmethod
    def get_artifact_entry(self, scope: str, path: str) -> ArtifactEntry:
        """Return one entry; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def delete_artifact_entries(self, scope: str, prefix: str = "") -> int:
        """Remove the entries of a scope under ``prefix``; return how many were removed."""

    @abc.abstractmethod
    def delete_artifact_entry(self, scope: str, path: str) -> bool:
        """Remove the entry at exactly ``path``; return whether there was one.

        Unlike :meth:`delete_artifact_entries`, other paths sharing the prefix (``a.txt.bak``
        for ``a.txt``) are kept.
        """

    @abc.abstractmethod
    def blob_referenced(self, digest: str) -> bool:
        """Whether any entry still names this blob (used before deleting a blob)."""
