"""The artifact store contract: content-addressed blobs, streamed in and out.

Blobs are named by the sha256 of their bytes, so identical files are stored once and every
read can be verified. Logical paths (``runs/<id>/model/model.skops``) live in the metadata
store's artifact index and name blobs; see :mod:`modelward.artifacts`.
"""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from modelward.entities import Blob
from modelward.errors import InvalidInput
from modelward.store.artifacts.streams import CHUNK_SIZE, write_atomically

__all__ = ["CHUNK_SIZE", "ArtifactStore", "check_digest", "sha256_file"]

_DIGEST = re.compile(r"[0-9a-f]{64}")


def check_digest(digest: Any) -> str:
    """Return ``digest`` if it is a sha256 hex digest (64 lower-case hex digits).

    Backends build file names and object keys from digests, so nothing else may pass.

    Raises:
        InvalidInput: For anything else.
    """
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidInput(
            f"{digest!r} is not a sha256 digest; a blob is named by 64 lower-case hex digits",
            details={"digest": str(digest)[:100]},
        )
    return digest


def sha256_file(path: Path) -> Blob:
    """Return the digest and size of a local file, reading it in chunks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            h.update(chunk)
            size += len(chunk)
    return Blob(h.hexdigest(), size)


class ArtifactStore(abc.ABC):
    """Where artifact bytes live. Implementations: local disk, S3.

    Every method streams: no implementation may hold a whole blob in memory (except
    :meth:`get_bytes`, which callers use only for small blobs). Every method taking a digest
    rejects anything but 64 lower-case hex digits (:func:`check_digest`) with
    :class:`~modelward.errors.InvalidInput`. Implementations must be safe to use from several
    threads and processes at once: storing the same content twice concurrently yields one blob.

    :mod:`modelward.testing.artifact_store_contract` is the test suite every backend passes.
    """

    uri: str

    @abc.abstractmethod
    def put_file(self, path: Path) -> Blob:
        """Store a local file (streamed) and return its blob; a no-op copy if already stored."""

    @abc.abstractmethod
    def put_stream(self, stream: BinaryIO) -> Blob:
        """Store everything readable from ``stream`` (streamed) and return its blob."""

    def put_bytes(self, data: bytes) -> Blob:
        """Store a small byte string and return its blob."""
        import io

        return self.put_stream(io.BytesIO(data))

    @abc.abstractmethod
    def open(self, digest: str, *, verify: bool = True) -> BinaryIO:
        """Open a blob for streamed reading.

        With ``verify`` (the default), reading to the end raises
        :class:`~modelward.errors.IntegrityError` if the bytes do not hash to ``digest``.
        Raises :class:`~modelward.errors.NotFound` if the blob is absent.
        """

    def get_bytes(self, digest: str, *, verify: bool = True) -> bytes:
        """Return a small blob's bytes, verified."""
        with self.open(digest, verify=verify) as f:
            return f.read()

    def download(self, digest: str, dest: Path, *, verify: bool = True) -> Path:
        """Write a blob to ``dest`` and return ``dest``.

        Streamed into a temporary file next to ``dest``, then renamed: a failed or corrupt
        download leaves no file (and an existing ``dest`` untouched). Backends may override
        this with something faster, keeping those guarantees.
        """
        with self.open(digest, verify=verify) as reader:
            return write_atomically(reader, dest)

    @abc.abstractmethod
    def exists(self, digest: str) -> bool:
        """Whether the blob is stored."""

    @abc.abstractmethod
    def size(self, digest: str) -> int:
        """Size in bytes of a stored blob; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def delete(self, digest: str) -> None:
        """Remove a blob (no error if absent). Callers check the index references first."""

    @abc.abstractmethod
    def iter_digests(self) -> Iterator[str]:
        """Yield the digest of every stored blob (for garbage collection and audits)."""

    def local_path(self, digest: str) -> Path | None:
        """Return a path on this machine holding the blob's bytes, if the backend has one.

        Callers must treat the file as read-only. Remote backends return ``None``.
        """
        return None
