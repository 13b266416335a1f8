"""Where a version's Parquet file is on this machine, for pyarrow and DuckDB to read.

A local artifact store already has the file (read-only, in place). A remote one (S3) is
downloaded once into a cache folder: blobs never change, so a cached file named by its digest
stays valid, and each download is verified against the digest.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelward.entities import DatasetVersion
    from modelward.store.artifacts.base import ArtifactStore

__all__ = ["parquet_path"]

log = logging.getLogger(__name__)

_CACHE = "modelward-dataset-cache"


def parquet_path(blobs: ArtifactStore, version: DatasetVersion, tmp_dir: Path) -> Path:
    """Return a local path holding ``version``'s Parquet file (treat it as read-only).

    Args:
        blobs: The artifact store.
        version: The dataset version.
        tmp_dir: Folder under which remote blobs are cached.
    """
    digest = version.artifact_digest
    local = blobs.local_path(digest)
    if local is not None and local.exists():
        return local
    target = tmp_dir / _CACHE / f"{digest}.parquet"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        log.info("downloading %s (%d bytes) to %s", version.ref, version.size, target)
        blobs.download(digest, target)
    return target
