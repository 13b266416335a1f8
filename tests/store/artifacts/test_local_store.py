"""LocalArtifactStore specifics: layout, atomic writes, OS error translation, the factory."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest

from modelward.errors import InvalidInput, NotFound, ReadOnlyStore, StorageFull
from modelward.store.artifacts import open_artifact_store
from modelward.store.artifacts.local import LocalArtifactStore


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "store")


def _leftovers(store: LocalArtifactStore) -> list[str]:
    tmp = store.root / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def test_blob_lives_at_its_fanned_out_digest_path_read_only(store: LocalArtifactStore) -> None:
    blob = store.put_bytes(b"layout")
    digest = hashlib.sha256(b"layout").hexdigest()
    expected = store.root / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    assert store.local_path(blob.digest) == expected
    assert expected.read_bytes() == b"layout"
    assert stat.S_IMODE(expected.stat().st_mode) == 0o444
    assert _leftovers(store) == []


def test_storing_existing_content_drops_the_temporary_file(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    src = tmp_path / "model.bin"
    src.write_bytes(b"weights" * 1000)
    store.put_file(src)
    mtime = store.local_path(store.put_file(src).digest).stat().st_mtime_ns
    store.put_bytes(b"weights" * 1000)
    assert _leftovers(store) == []
    assert (
        store.local_path(hashlib.sha256(b"weights" * 1000).hexdigest()).stat().st_mtime_ns == mtime
    )


def test_a_truncated_blob_is_repaired_by_storing_the_content_again(
    store: LocalArtifactStore,
) -> None:
    blob = store.put_bytes(b"complete content")
    path = store.local_path(blob.digest)
    path.chmod(0o644)
    path.write_bytes(b"compl")
    assert store.put_bytes(b"complete content") == blob
    assert store.get_bytes(blob.digest) == b"complete content"


def test_store_folder_is_created_on_first_write_only(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "not-yet")
    assert not store.exists(hashlib.sha256(b"x").hexdigest())
    assert list(store.iter_digests()) == []
    assert not (tmp_path / "not-yet").exists()
    store.put_bytes(b"x")
    assert (tmp_path / "not-yet" / "blobs").is_dir()


def test_put_file_of_a_missing_file_raises_not_found(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match=r"no such file or directory while reading .*absent\.bin"):
        store.put_file(tmp_path / "absent.bin")


def test_put_file_of_a_directory_is_refused(store: LocalArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a directory; store its files one by one"):
        store.put_file(tmp_path)


def _raise(err: int) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(err, os.strerror(err))

    return fail


def test_full_disk_raises_storage_full_and_leaves_no_temporary_file(
    store: LocalArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_bytes(b"make the folders")
    monkeypatch.setattr(os, "fsync", _raise(errno.ENOSPC))
    with pytest.raises(StorageFull, match="no space left on the disk while storing blob"):
        store.put_bytes(b"does not fit")
    monkeypatch.undo()
    assert _leftovers(store) == []
    assert not store.exists(hashlib.sha256(b"does not fit").hexdigest())


def test_full_disk_during_download_leaves_no_file(
    store: LocalArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = store.put_bytes(b"payload")
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(os, "fsync", _raise(errno.ENOSPC))
    with pytest.raises(StorageFull, match=r"no space left on the disk while writing .*model\.bin"):
        store.download(blob.digest, out / "model.bin")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("err", [errno.EROFS, errno.EACCES])
def test_unwritable_store_raises_read_only_store(
    store: LocalArtifactStore, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    monkeypatch.setattr(tempfile, "mkstemp", _raise(err))
    with pytest.raises(
        ReadOnlyStore, match=r"the artifact store is read-only: .*setting `artifacts`"
    ):
        store.put_bytes(b"cannot be written")


def _permissions_enforced(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o555)
    try:
        (probe / "x").touch()
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
    return False


def test_read_only_folder_can_be_read_but_not_written(tmp_path: Path) -> None:
    if not _permissions_enforced(tmp_path):
        pytest.skip("this user (root with CAP_DAC_OVERRIDE) ignores file permissions")
    store = LocalArtifactStore(tmp_path / "store")
    blob = store.put_bytes(b"readable")
    for path in [store.root, *store.root.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)
    try:
        assert store.get_bytes(blob.digest) == b"readable"
        with pytest.raises(ReadOnlyStore, match="the artifact store is read-only"):
            store.put_bytes(b"new content")
        with pytest.raises(ReadOnlyStore, match="the artifact store is read-only: deleting"):
            store.delete(blob.digest)
    finally:
        for path in [store.root, *store.root.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)


def test_factory_opens_a_folder_or_file_uri(tmp_path: Path) -> None:
    by_folder = open_artifact_store(str(tmp_path / "a"))
    by_uri = open_artifact_store(f"file://{tmp_path / 'a'}")
    assert isinstance(by_folder, LocalArtifactStore)
    assert isinstance(by_uri, LocalArtifactStore)
    assert by_folder.root == by_uri.root == tmp_path / "a"
    assert by_folder.uri == (tmp_path / "a").as_uri()


@pytest.mark.parametrize("location", ["", "ftp://host/path", "gs://bucket/x"])
def test_factory_rejects_unknown_locations(location: str) -> None:
    with pytest.raises(InvalidInput, match="artifact location"):
        open_artifact_store(location)
