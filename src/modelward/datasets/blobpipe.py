"""A writable file whose bytes go straight into the artifact store as one blob.

The ingest pipeline's Parquet writer writes into a :class:`BlobPipe`; a thread hands the bytes
to :meth:`ArtifactStore.put_stream`, which hashes and stores them as they come. The Parquet
file is thus never written twice (once to a temporary file, once into the store), and storing
overlaps parsing. :meth:`BlobPipe.abort` makes the store's reader fail, so an ingest that fails
part-way never stores a truncated blob.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Any

from modelward.errors import ModelwardError

if TYPE_CHECKING:
    from modelward.entities import Blob
    from modelward.store.artifacts.base import ArtifactStore

__all__ = ["BlobPipe"]

log = logging.getLogger(__name__)

#: Bytes gathered before they are handed to the storing thread.
_CHUNK = 1 << 20
#: Chunks in flight between the writer and the store (bounds memory to about 8 MiB).
_DEPTH = 8


class _Aborted(Exception):
    """Raised inside the store's read when the writer gave up."""


_ABORT = object()


class _Reader:
    """The read side, given to ``put_stream``."""

    def __init__(self, chunks: queue.Queue[Any]) -> None:
        self._chunks = chunks
        self._buffer = memoryview(b"")
        self._done = False

    def read(self, size: int = -1) -> bytes:
        if not self._buffer:
            if self._done:
                return b""
            item = self._chunks.get()
            if item is _ABORT:
                raise _Aborted("the writer aborted")
            if item is None:
                self._done = True
                return b""
            self._buffer = memoryview(item)
        if size < 0 or size >= len(self._buffer):
            out, self._buffer = bytes(self._buffer), memoryview(b"")
            return out
        out, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        return out

    def close(self) -> None:
        pass


class BlobPipe:
    """A write-only, non-seekable file that stores what is written as one blob.

    Args:
        blobs: The artifact store.
    """

    def __init__(self, blobs: ArtifactStore) -> None:
        self._blobs = blobs
        self._chunks: queue.Queue[Any] = queue.Queue(maxsize=_DEPTH)
        self._pending = bytearray()
        self._written = 0
        self._blob: Blob | None = None
        self._error: BaseException | None = None
        self._finished = False
        self.closed = False
        self._thread = threading.Thread(target=self._store, name="modelward-blob", daemon=True)
        self._thread.start()

    def _store(self) -> None:
        try:
            self._blob = self._blobs.put_stream(_Reader(self._chunks))  # type: ignore[arg-type]
        except _Aborted:
            pass
        except BaseException as exc:
            self._error = exc
            # Drain so a writer blocked on a full queue wakes up and sees the error.
            while True:
                try:
                    item = self._chunks.get(timeout=0.1)
                except queue.Empty:
                    if self._finished:
                        break
                    continue
                if item is None or item is _ABORT:
                    break

    # -- the file interface pyarrow uses ---------------------------------------------------
    def write(self, data: Any) -> int:
        if self._finished:
            return len(memoryview(data))  # aborted (or finished): nothing more is stored
        if self._error is not None:
            self._raise()
        view = memoryview(data)
        self._pending += view
        self._written += len(view)
        if len(self._pending) >= _CHUNK:
            # Hand the buffer over (no copy) and start a new one.
            self._send(self._pending)
            self._pending = bytearray()
        return len(view)

    def _send(self, item: Any) -> None:
        while True:
            if self._error is not None:
                self._raise()
            try:
                self._chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    # -- ending ----------------------------------------------------------------------------
    def finish(self) -> Blob:
        """Store the rest and return the blob (after the store has it)."""
        if self._pending:
            self._send(self._pending)
            self._pending = bytearray()
        self._send(None)
        self._finished = True
        self._thread.join()
        if self._error is not None:
            self._raise()
        assert self._blob is not None
        return self._blob

    def abort(self) -> None:
        """Give up: the store discards what it received. Never raises."""
        self._finished = True
        if self._thread.is_alive():
            try:
                self._chunks.put(_ABORT, timeout=5)
            except queue.Full:  # pragma: no cover - the storing thread is stuck
                log.warning("could not abort the blob being stored")
            self._thread.join(timeout=30)

    def _raise(self) -> None:
        error = self._error
        assert error is not None
        if isinstance(error, ModelwardError):
            raise error
        raise OSError(f"storing the Parquet file failed: {error}") from error
