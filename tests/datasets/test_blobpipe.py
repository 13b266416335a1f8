"""BlobPipe: bytes written become one blob; an aborted write stores nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

import pytest

from modelward.datasets.blobpipe import BlobPipe
from modelward.entities import Blob
from modelward.errors import StorageFull
from modelward.store.artifacts.local import LocalArtifactStore


def test_written_bytes_become_one_verified_blob(blobs: LocalArtifactStore) -> None:
    pipe = BlobPipe(blobs)
    parts = [b"x" * 3_000_000, b"", b"tail", bytearray(b"!" * 10)]
    for part in parts:
        pipe.write(part)
    assert pipe.tell() == sum(len(p) for p in parts)
    blob = pipe.finish()
    data = b"".join(parts)
    assert blob == Blob(hashlib.sha256(data).hexdigest(), len(data))
    assert blobs.get_bytes(blob.digest) == data


def test_abort_stores_nothing_and_later_writes_are_dropped(
    blobs: LocalArtifactStore, tmp_path: Path
) -> None:
    pipe = BlobPipe(blobs)
    pipe.write(b"y" * 5_000_000)
    pipe.abort()
    pipe.write(b"more")  # e.g. a writer flushing its footer while being collected
    assert list(blobs.iter_digests()) == []
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_a_store_error_reaches_the_writer(blobs: LocalArtifactStore) -> None:
    class Full(LocalArtifactStore):
        def put_stream(self, stream: BinaryIO) -> Blob:
            stream.read(10)
            raise StorageFull("no space left for the artifact store")

    pipe = BlobPipe(Full(blobs.root))

    def write_all() -> None:
        for _ in range(100):
            pipe.write(b"z" * 1_000_000)
        pipe.finish()

    with pytest.raises(StorageFull, match="no space left for the artifact store"):
        write_all()
