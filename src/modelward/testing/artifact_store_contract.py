"""The contract every :class:`~modelward.store.artifacts.base.ArtifactStore` passes.

Use it from a backend's tests by importing the test functions and providing two fixtures::

    from modelward.testing.artifact_store_contract import *  # noqa: F403

    @pytest.fixture
    def artifact_store(tmp_path):
        return MyStore(...)

    @pytest.fixture
    def corrupt_blob(artifact_store):
        def corrupt(digest: str, data: bytes) -> None:
            ...  # replace the stored bytes of ``digest`` with ``data``, behind the store's back
        return corrupt

The suite needs about 130 MB of free disk space (one streamed 64 MiB file, stored and
downloaded).
"""

from __future__ import annotations

import hashlib
import io
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from modelward.errors import IntegrityError, InvalidInput, NotFound
from modelward.store.artifacts.base import ArtifactStore

__all__ = [
    "test_concurrent_puts_of_the_same_content_store_one_blob",
    "test_corrupted_blob_download_keeps_an_existing_destination",
    "test_corrupted_blob_download_leaves_no_file",
    "test_corrupted_blob_raises_integrity_error_on_read",
    "test_delete_of_an_absent_blob_is_a_no_op",
    "test_download_creates_parent_folders_and_round_trips",
    "test_empty_blob_round_trips",
    "test_exists_size_and_delete",
    "test_identical_content_is_stored_once",
    "test_iter_digests_lists_every_blob",
    "test_large_file_streams_with_bounded_memory",
    "test_local_path_is_none_or_holds_the_bytes",
    "test_malformed_digest_is_rejected",
    "test_missing_blob_raises_not_found",
    "test_open_streams_in_chunks",
    "test_put_bytes_round_trips_and_names_blob_by_sha256",
    "test_put_file_and_put_stream_agree",
    "test_read_without_verification_returns_the_stored_bytes",
]

CorruptBlob = Callable[[str, bytes], None]

_LARGE = 64 * 1024 * 1024
#: A streamed 64 MiB transfer must stay far below the file's size in Python allocations.
_MEMORY_BOUND = 16 * 1024 * 1024


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_bytes_round_trips_and_names_blob_by_sha256(artifact_store: ArtifactStore) -> None:
    """A blob is named by the sha256 of its bytes and reads back unchanged."""
    data = b"modelward artifact\n" * 100
    blob = artifact_store.put_bytes(data)
    assert blob.digest == _sha(data)
    assert blob.size == len(data)
    assert artifact_store.get_bytes(blob.digest) == data


def test_put_file_and_put_stream_agree(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    """Storing the same bytes from a file or a stream gives the same blob."""
    data = bytes(range(256)) * 4000
    path = tmp_path / "weights.bin"
    path.write_bytes(data)
    from_file = artifact_store.put_file(path)
    from_stream = artifact_store.put_stream(io.BytesIO(data))
    assert from_file == from_stream
    assert from_file.digest == _sha(data)
    assert artifact_store.size(from_file.digest) == len(data)


def test_identical_content_is_stored_once(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    """Identical content from different sources is stored once (deduplication)."""
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_bytes(b"same bytes")
    b.write_bytes(b"same bytes")
    first = artifact_store.put_file(a)
    second = artifact_store.put_file(b)
    third = artifact_store.put_bytes(b"same bytes")
    assert first == second == third
    assert list(artifact_store.iter_digests()) == [first.digest]


def test_empty_blob_round_trips(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    """A zero-byte blob stores, reads and downloads."""
    blob = artifact_store.put_bytes(b"")
    assert blob.digest == _sha(b"")
    assert blob.size == 0
    assert artifact_store.get_bytes(blob.digest) == b""
    dest = artifact_store.download(blob.digest, tmp_path / "out" / "empty")
    assert dest.read_bytes() == b""


def test_open_streams_in_chunks(artifact_store: ArtifactStore) -> None:
    """``open`` returns a stream read piece by piece, not all at once."""
    data = bytes(range(256)) * 10_000
    blob = artifact_store.put_bytes(data)
    pieces = []
    with artifact_store.open(blob.digest) as f:
        while chunk := f.read(65_536):
            assert len(chunk) <= 65_536
            pieces.append(chunk)
    assert b"".join(pieces) == data
    assert len(pieces) > 1


def test_exists_size_and_delete(artifact_store: ArtifactStore) -> None:
    """``exists``, ``size`` and ``delete`` agree with each other."""
    blob = artifact_store.put_bytes(b"to be deleted")
    assert artifact_store.exists(blob.digest)
    assert artifact_store.size(blob.digest) == len(b"to be deleted")
    artifact_store.delete(blob.digest)
    assert not artifact_store.exists(blob.digest)
    assert list(artifact_store.iter_digests()) == []


def test_delete_of_an_absent_blob_is_a_no_op(artifact_store: ArtifactStore) -> None:
    """Deleting a blob that is not there is not an error."""
    artifact_store.delete(_sha(b"never stored"))
    assert not artifact_store.exists(_sha(b"never stored"))


def test_missing_blob_raises_not_found(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    """Reading an absent blob raises NotFound naming it, and downloads nothing."""
    digest = _sha(b"never stored")
    with pytest.raises(NotFound, match=digest):
        artifact_store.open(digest)
    with pytest.raises(NotFound, match=digest):
        artifact_store.size(digest)
    with pytest.raises(NotFound, match=digest):
        artifact_store.get_bytes(digest)
    dest = tmp_path / "out" / "missing.bin"
    with pytest.raises(NotFound, match=digest):
        artifact_store.download(digest, dest)
    assert not dest.exists()


@pytest.mark.parametrize("method", ["open", "exists", "size", "delete", "get_bytes", "download"])
def test_malformed_digest_is_rejected(
    artifact_store: ArtifactStore, method: str, tmp_path: Path
) -> None:
    """Anything but 64 lower-case hex digits is refused before it reaches storage."""
    args = (tmp_path / "out",) if method == "download" else ()
    for digest in ["../../etc/passwd", "ABCDEF" + "0" * 58, "0" * 63, "0" * 65, "", "/" + "0" * 63]:
        with pytest.raises(InvalidInput, match="is not a sha256 digest"):
            getattr(artifact_store, method)(digest, *args)
    assert not (tmp_path / "out").exists()


def test_corrupted_blob_raises_integrity_error_on_read(
    artifact_store: ArtifactStore, corrupt_blob: CorruptBlob
) -> None:
    """Damaged stored bytes raise IntegrityError when read to the end."""
    blob = artifact_store.put_bytes(b"original content")
    corrupt_blob(blob.digest, b"tampered content")
    with pytest.raises(IntegrityError, match=f"{blob.digest} .* is corrupted"):
        artifact_store.get_bytes(blob.digest)
    with artifact_store.open(blob.digest) as f:
        assert f.read(4) == b"tamp"  # bytes flow before the end is reached
        with pytest.raises(IntegrityError, match="corrupted"):
            f.read()


def test_corrupted_blob_download_leaves_no_file(
    artifact_store: ArtifactStore, corrupt_blob: CorruptBlob, tmp_path: Path
) -> None:
    """A download of a damaged blob fails and leaves no file behind."""
    blob = artifact_store.put_bytes(b"original content")
    corrupt_blob(blob.digest, b"tampered content")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError, match="corrupted"):
        artifact_store.download(blob.digest, out / "model.bin")
    assert list(out.iterdir()) == []


def test_corrupted_blob_download_keeps_an_existing_destination(
    artifact_store: ArtifactStore, corrupt_blob: CorruptBlob, tmp_path: Path
) -> None:
    """A failed download leaves an existing destination file as it was."""
    blob = artifact_store.put_bytes(b"original content")
    corrupt_blob(blob.digest, b"tampered content")
    dest = tmp_path / "downloads" / "model.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"previous download")
    with pytest.raises(IntegrityError, match="corrupted"):
        artifact_store.download(blob.digest, dest)
    assert dest.read_bytes() == b"previous download"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.bin"]


def test_read_without_verification_returns_the_stored_bytes(
    artifact_store: ArtifactStore, corrupt_blob: CorruptBlob
) -> None:
    """``verify=False`` reads the stored bytes as they are (a recovery escape hatch)."""
    blob = artifact_store.put_bytes(b"original content")
    corrupt_blob(blob.digest, b"tampered content")
    assert artifact_store.get_bytes(blob.digest, verify=False) == b"tampered content"


def test_download_creates_parent_folders_and_round_trips(
    artifact_store: ArtifactStore, tmp_path: Path
) -> None:
    """``download`` creates missing parent folders and writes exactly the blob."""
    blob = artifact_store.put_bytes(b"payload")
    dest = artifact_store.download(blob.digest, tmp_path / "a" / "b" / "payload.bin")
    assert dest == tmp_path / "a" / "b" / "payload.bin"
    assert dest.read_bytes() == b"payload"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["payload.bin"]


def test_iter_digests_lists_every_blob(artifact_store: ArtifactStore) -> None:
    """``iter_digests`` yields every stored blob once."""
    digests = {artifact_store.put_bytes(f"blob {i}".encode()).digest for i in range(12)}
    assert sorted(artifact_store.iter_digests()) == sorted(digests)


def test_concurrent_puts_of_the_same_content_store_one_blob(artifact_store: ArtifactStore) -> None:
    """Threads storing the same content at once all succeed and leave one blob."""
    data = b"written by many threads at once" * 1000
    results: list[str] = []
    errors: list[BaseException] = []

    def put() -> None:
        try:
            results.append(artifact_store.put_bytes(data).digest)
        except BaseException as exc:  # collected and re-checked below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [_sha(data)] * 6
    assert list(artifact_store.iter_digests()) == [_sha(data)]
    assert artifact_store.get_bytes(_sha(data)) == data


def test_large_file_streams_with_bounded_memory(
    artifact_store: ArtifactStore, tmp_path: Path
) -> None:
    """A 64 MiB file is stored and downloaded without holding it in memory."""
    block = bytes(range(256)) * 4096  # 1 MiB
    path = tmp_path / "large.bin"
    h = hashlib.sha256()
    with path.open("wb") as f:
        for i in range(_LARGE // len(block)):
            chunk = i.to_bytes(8, "big") + block[8:]
            h.update(chunk)
            f.write(chunk)
    tracemalloc.start()
    try:
        blob = artifact_store.put_file(path)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        dest = artifact_store.download(blob.digest, tmp_path / "back" / "large.bin")
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.digest == h.hexdigest()
    assert blob.size == _LARGE
    assert put_peak < _MEMORY_BOUND, f"put_file peaked at {put_peak / 2**20:.1f} MiB"
    assert download_peak < _MEMORY_BOUND, f"download peaked at {download_peak / 2**20:.1f} MiB"
    assert dest.stat().st_size == _LARGE
    back = hashlib.sha256()
    with dest.open("rb") as f:
        while chunk := f.read(1 << 20):
            back.update(chunk)
    assert back.hexdigest() == blob.digest


def test_local_path_is_none_or_holds_the_bytes(artifact_store: ArtifactStore) -> None:
    """``local_path`` is ``None`` (remote backends) or a file with the blob's bytes."""
    blob = artifact_store.put_bytes(b"local bytes")
    path = artifact_store.local_path(blob.digest)
    assert path is None or path.read_bytes() == b"local bytes"
