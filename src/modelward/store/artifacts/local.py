"""Artifact blobs in a local folder (the embedded default, ``./.modelward/artifacts``).

Layout::

    ROOT/blobs/sha256/ab/cd/abcd…(64 hex digits)   one read-only file per blob
    ROOT/tmp/put-….part                            writes in progress

A write streams into ``ROOT/tmp`` while hashing, is fsynced, then renamed into place, so a
blob file is always complete and named by the hash of its bytes. Storing content that is
already there drops the temporary file (deduplication). Operating-system errors are
translated here, once: a full disk raises :class:`~modelward.errors.StorageFull`, a folder
that cannot be written raises :class:`~modelward.errors.ReadOnlyStore`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from modelward.entities import Blob
from modelward.errors import InvalidInput, NotFound
from modelward.store.artifacts.base import ArtifactStore, check_digest
from modelward.store.artifacts.streams import (
    ByteSource,
    fsync_dir,
    local_os_errors,
    open_reader,
    spool,
    translate_os_error,
)

__all__ = ["LocalArtifactStore"]

logger = logging.getLogger(__name__)

_DIGEST = re.compile(r"[0-9a-f]{64}")
#: Blob files are never modified in place; make accidental writes through local_path fail.
_BLOB_MODE = 0o444


class LocalArtifactStore(ArtifactStore):
    """Content-addressed blobs under a folder on this machine.

    Args:
        root: The store's folder; created on the first write, so a read-only store can be
            opened for reading.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(Path(root).expanduser()))
        self.uri = self.root.as_uri()
        self._blobs = self.root / "blobs" / "sha256"
        self._tmp = self.root / "tmp"

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    def _blob_path(self, digest: str) -> Path:
        check_digest(digest)
        return self._blobs / digest[:2] / digest[2:4] / digest

    # -- writing ------------------------------------------------------------------------

    def put_file(self, path: Path) -> Blob:
        """Store a local file: streamed into ``tmp/`` while hashing, then renamed into place."""
        path = Path(path)
        with local_os_errors("source", path, "reading"):
            if path.is_dir():
                raise InvalidInput(f"{path} is a directory; store its files one by one")
            source = path.open("rb")
        with source:
            return self._ingest(source)

    def put_stream(self, stream: BinaryIO) -> Blob:
        """Store everything readable from ``stream``, like :meth:`put_file`."""
        return self._ingest(stream)

    def _ingest(self, source: ByteSource | BinaryIO) -> Blob:
        # fsync only once we know the content is new: storing a duplicate then costs no flush.
        tmp, blob = spool(source, self._tmp, "store", prefix="put-", fsync=False)
        try:
            self._place(tmp, blob)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return blob

    def _place(self, tmp: Path, blob: Blob) -> None:
        dest = self._blob_path(blob.digest)
        with local_os_errors("store", dest, "storing blob"):
            try:
                existing = dest.stat().st_size
            except FileNotFoundError:
                existing = None
            if existing == blob.size:
                tmp.unlink()
                return
            if existing is not None:
                # Same name, other size: the stored copy was damaged; the new bytes repair it.
                logger.warning(
                    "replacing damaged blob %s (%d bytes, expected %d)", dest, existing, blob.size
                )
            fd = os.open(tmp, os.O_RDWR)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, _BLOB_MODE)
            os.replace(tmp, dest)
        fsync_dir(dest.parent)

    # -- reading ------------------------------------------------------------------------

    def open(self, digest: str, *, verify: bool = True) -> BinaryIO:
        """Open a blob for streamed reading, verified at the end unless ``verify=False``."""
        path = self._blob_path(digest)
        try:
            raw = path.open("rb", buffering=0)
        except FileNotFoundError:
            raise self._missing(digest) from None
        except OSError as exc:
            raise translate_os_error(exc, "store", path, "opening") from exc
        return open_reader(raw, digest if verify else None, str(path))

    def exists(self, digest: str) -> bool:
        """Whether the blob's file is present."""
        return self._blob_path(digest).is_file()

    def size(self, digest: str) -> int:
        """Size in bytes of a stored blob; :class:`~modelward.errors.NotFound` if absent."""
        path = self._blob_path(digest)
        try:
            return path.stat().st_size
        except FileNotFoundError:
            raise self._missing(digest) from None

    def local_path(self, digest: str) -> Path:
        """Return the blob's file (read-only); :class:`~modelward.errors.NotFound` if absent."""
        path = self._blob_path(digest)
        if not path.is_file():
            raise self._missing(digest)
        return path

    def iter_digests(self) -> Iterator[str]:
        """Yield the digest of every stored blob, in sorted order."""
        for top in _sorted_dirs(self._blobs):
            for sub in _sorted_dirs(top):
                with os.scandir(sub) as entries:
                    names = sorted(e.name for e in entries if e.is_file())
                yield from (n for n in names if _DIGEST.fullmatch(n))

    # -- deleting -----------------------------------------------------------------------

    def delete(self, digest: str) -> None:
        """Remove a blob's file (no error if absent)."""
        path = self._blob_path(digest)
        # Empty fan-out folders stay: removing them could race a concurrent write into them.
        with local_os_errors("store", path, "deleting"):
            path.unlink(missing_ok=True)

    def _missing(self, digest: str) -> NotFound:
        return NotFound(
            f"blob {digest} is not in the artifact store at {self.root}; it was deleted or the "
            "store points at another folder (setting `artifacts`)",
            details={"digest": digest, "store": self.uri},
        )


def _sorted_dirs(path: Path) -> list[Path]:
    try:
        with os.scandir(path) as entries:
            return sorted(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return []
