"""Streaming helpers shared by every artifact backend: verified reads and atomic local writes.

A blob is never held whole in memory: bytes move in :data:`CHUNK_SIZE` pieces, are hashed on
the way, and a reader that reaches the end of a blob whose bytes do not hash to its name
raises :class:`~modelward.errors.IntegrityError`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from modelward.entities import Blob
from modelward.errors import (
    IntegrityError,
    InvalidInput,
    ModelwardError,
    NotFound,
    PermissionDenied,
    ReadOnlyStore,
    StorageFull,
)

__all__ = [
    "CHUNK_SIZE",
    "ByteSource",
    "copy_hashing",
    "fsync_dir",
    "local_os_errors",
    "open_reader",
    "spool",
    "translate_os_error",
    "write_atomically",
]

#: Bytes read or written at a time when streaming.
CHUNK_SIZE = 1024 * 1024


class ByteSource(Protocol):
    """The little a reader needs from what it wraps: ``read(n)`` and ``close()``."""

    def read(self, size: int = ..., /) -> bytes:
        """Return up to ``size`` bytes; ``b""`` at the end."""
        ...

    def close(self) -> None:
        """Release the underlying resource."""
        ...


class _VerifyingRaw(io.RawIOBase):
    """Raw stream over a :class:`ByteSource` that hashes what passes and checks it at the end."""

    def __init__(self, source: ByteSource, digest: str | None, location: str) -> None:
        super().__init__()
        self._source = source
        self._expected = digest
        self._location = location
        self._hash = hashlib.sha256() if digest is not None else None
        self._size = 0
        self._error: IntegrityError | None = None
        self._at_end = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._error is not None:
            raise self._error
        if self._at_end:
            return 0
        view = memoryview(buffer).cast("B")
        data = self._source.read(len(view))
        n = len(data)
        if n == 0:
            self._at_end = True
            self._check()
            return 0
        view[:n] = data
        if self._hash is not None:
            self._hash.update(data)
        self._size += n
        return n

    def readall(self) -> bytes:
        # RawIOBase.readall reads 8 KiB at a time; blobs move in CHUNK_SIZE pieces.
        parts = []
        buf = bytearray(CHUNK_SIZE)
        while n := self.readinto(buf):
            parts.append(bytes(buf[:n]))
        return b"".join(parts)

    def _check(self) -> None:
        if self._hash is None or self._expected is None:
            return
        actual = self._hash.hexdigest()
        if actual != self._expected:
            self._error = IntegrityError(
                f"artifact blob {self._expected} at {self._location} is corrupted: its "
                f"{self._size} bytes hash to {actual}. The stored copy was changed or damaged; "
                "log the artifact again from its source or restore the blob from a backup",
                details={
                    "expected": self._expected,
                    "actual": actual,
                    "size": self._size,
                    "location": self._location,
                },
            )
            raise self._error

    def close(self) -> None:
        if not self.closed:
            try:
                self._source.close()
            finally:
                super().close()


def open_reader(source: ByteSource, digest: str | None, location: str) -> BinaryIO:
    """Wrap ``source`` in a buffered reader that verifies ``digest`` when it reaches the end.

    Args:
        source: The raw bytes (an open file, an HTTP body); closed with the reader.
        digest: Expected sha256 hex digest, or ``None`` to read without verifying.
        location: Where the bytes come from, for error messages.

    Returns:
        A readable, non-seekable binary stream. Reading to the end raises
        :class:`~modelward.errors.IntegrityError` on a mismatch; so does every later read.
    """
    return io.BufferedReader(_VerifyingRaw(source, digest, location), CHUNK_SIZE)


def copy_hashing(source: ByteSource | BinaryIO, write: Callable[[bytes], object]) -> Blob:
    """Copy ``source`` to ``write`` in chunks and return the digest and size of what passed."""
    h = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        h.update(chunk)
        size += len(chunk)
        write(chunk)
    return Blob(h.hexdigest(), size)


Role = Literal["store", "destination", "source"]

_FULL = {errno.ENOSPC, errno.EDQUOT} if hasattr(errno, "EDQUOT") else {errno.ENOSPC}
_DENIED = {errno.EACCES, errno.EPERM}


def translate_os_error(exc: OSError, role: Role, path: Path | str, action: str) -> ModelwardError:
    """Return the modelward error for an ``OSError`` met while ``action`` on ``path``.

    ``role`` says whose file it was: the store's own files (permission problems mean a
    read-only store), a download destination, or a source the user asked us to read.
    """
    where = f"{action} {path}"
    details = {"path": str(path), "errno": exc.errno}
    if exc.errno in _FULL:
        return StorageFull(
            f"no space left on the disk while {where}; free some space or move the "
            "artifact store (or the destination) to a larger disk",
            details=details,
        )
    if exc.errno == errno.EROFS or (role == "store" and exc.errno in _DENIED):
        if role == "store":
            return ReadOnlyStore(
                f"the artifact store is read-only: {where} failed ({exc.strerror}). Make the "
                "folder writable by this user, or point the artifact store at a writable "
                "location (setting `artifacts`)",
                details=details,
            )
        return PermissionDenied(
            f"cannot write while {where}: the file system is read-only; choose another folder",
            details=details,
        )
    if exc.errno in _DENIED:
        return PermissionDenied(
            f"permission denied while {where}; check the file's permissions", details=details
        )
    if exc.errno == errno.ENOENT:
        return NotFound(f"no such file or directory while {where}", details=details)
    if exc.errno in {errno.EISDIR, errno.ENOTDIR}:
        return InvalidInput(f"{where} failed: {exc.strerror}", details=details)
    return ModelwardError(f"{where} failed: {exc}", details=details)


@contextlib.contextmanager
def local_os_errors(role: Role, path: Path | str, action: str) -> Iterator[None]:
    """Translate ``OSError`` raised inside the block (see :func:`translate_os_error`)."""
    try:
        yield
    except ModelwardError:
        raise
    except OSError as exc:
        raise translate_os_error(exc, role, path, action) from exc


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries to disk (where the platform allows; errors are ignored)."""
    # A rename is durable only once its directory is flushed; not possible on every platform.
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def spool(
    source: ByteSource | BinaryIO,
    directory: Path,
    role: Role,
    *,
    prefix: str = ".modelward-",
    fsync: bool = True,
    label: Path | None = None,
) -> tuple[Path, Blob]:
    """Stream ``source`` into a new temporary file in ``directory``, hashing on the way.

    Writes go straight to the file descriptor (no buffer left to flush at close, so a full
    disk is reported once, translated). On any failure the temporary file is removed.

    Args:
        source: Where the bytes come from.
        directory: Folder for the temporary file (created if needed).
        role: Whose folder it is, for error translation (see :func:`translate_os_error`).
        prefix: Start of the temporary file's name.
        fsync: Flush the file to disk before returning (needed before a rename into place).
        label: The path named in error messages (default: the temporary file).

    Returns:
        The temporary file (the caller renames or removes it) and the digest of its bytes.
    """
    with local_os_errors(role, directory, "creating a temporary file in"):
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=directory)
    tmp = Path(name)
    shown = label or tmp
    ok = False
    try:
        try:

            def write(chunk: bytes) -> None:
                with local_os_errors(role, shown, "writing"):
                    _write_all(fd, chunk)

            blob = copy_hashing(source, write)
            if fsync:
                with local_os_errors(role, shown, "writing"):
                    os.fsync(fd)
            ok = True
        finally:
            try:
                os.close(fd)
            except OSError as exc:
                if ok:
                    raise translate_os_error(exc, role, shown, "writing") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp, blob


def write_atomically(reader: BinaryIO | ByteSource, dest: Path) -> Path:
    """Stream ``reader`` into ``dest``: a temporary file next to it, fsynced, then renamed.

    If reading fails (a corrupt blob raises :class:`~modelward.errors.IntegrityError` at the
    end) or writing fails, the temporary file is removed and ``dest`` is left as it was.
    """
    tmp, _ = spool(reader, dest.parent, "destination", label=dest)
    try:
        with local_os_errors("destination", dest, "writing"):
            os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(dest.parent)
    return dest
