"""ArtifactService: logical files per scope over a blob store, with the SQLite index."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from modelward.artifacts import ArtifactService
from modelward.entities import ArtifactEntry
from modelward.errors import (
    Conflict,
    IntegrityError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from modelward.store.artifacts.local import LocalArtifactStore
from modelward.store.metadata.base import MetadataStore

RUN = "runs/0123456789abcdef"
OTHER = "runs/fedcba9876543210"


@pytest.fixture
def blobs(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "blobs")


@pytest.fixture
def service(sqlite_store: MetadataStore, blobs: LocalArtifactStore) -> ArtifactService:
    return ArtifactService(sqlite_store, blobs)


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _corrupt(blobs: LocalArtifactStore, digest: str, data: bytes) -> None:
    path = blobs.local_path(digest)
    path.chmod(0o644)
    path.write_bytes(data)


# -- logging ----------------------------------------------------------------------------


def test_log_file_defaults_to_the_file_name(service: ArtifactService, tmp_path: Path) -> None:
    src = tmp_path / "metrics.csv"
    src.write_bytes(b"a,b\n1,2\n")
    entry = service.log_file(RUN, src)
    assert (entry.scope, entry.path, entry.digest, entry.size) == (
        RUN,
        "metrics.csv",
        _sha(b"a,b\n1,2\n"),
        8,
    )
    assert entry.created_at > 0
    assert service.read_bytes(RUN, "metrics.csv") == b"a,b\n1,2\n"
    assert service.list(RUN) == [entry]


def test_log_file_at_a_chosen_path(service: ArtifactService, tmp_path: Path) -> None:
    src = tmp_path / "w.bin"
    src.write_bytes(b"weights")
    service.log_file(RUN, src, "model/weights.bin")
    assert [e.path for e in service.list(RUN)] == ["model/weights.bin"]


def test_log_file_of_a_missing_file_or_a_folder_is_refused(
    service: ArtifactService, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match=r"no such file .*absent\.txt"):
        service.log_file(RUN, tmp_path / "absent.txt")
    with pytest.raises(InvalidInput, match="is a folder; log it with log_dir"):
        service.log_file(RUN, tmp_path)
    assert service.list(RUN) == []


def test_log_bytes_text_and_json_round_trip(service: ArtifactService) -> None:
    service.log_bytes(RUN, b"\x00\x01", "raw.bin")
    service.log_text(RUN, "héllo\n", "notes/readme.txt")
    service.log_json(RUN, {"b": 1, "a": [1.5, None, "x"]}, "config.json")
    assert service.read_bytes(RUN, "raw.bin") == b"\x00\x01"
    assert service.read_bytes(RUN, "notes/readme.txt").decode("utf-8") == "héllo\n"
    assert json.loads(service.read_bytes(RUN, "config.json")) == {"b": 1, "a": [1.5, None, "x"]}
    assert [e.path for e in service.list(RUN)] == ["config.json", "notes/readme.txt", "raw.bin"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"loss": float("nan")}, "Out of range float values are not JSON compliant"),
        ({"ids": {1, 2}}, "Object of type set is not JSON serializable"),
    ],
)
def test_log_json_refuses_values_json_cannot_hold(
    service: ArtifactService, value: Any, message: str
) -> None:
    with pytest.raises(InvalidInput, match=f"cannot write 'x.json' as JSON: {message}"):
        service.log_json(RUN, value, "x.json")
    assert service.list(RUN) == []


def test_log_bytes_refuses_text(service: ArtifactService) -> None:
    with pytest.raises(InvalidInput, match="log_bytes takes bytes, not str; use log_text"):
        service.log_bytes(RUN, "text", "x.txt")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "message"),
    [("../x", "contains '..'"), ("/etc/passwd", "is absolute"), ("a/../../b", "contains '..'")],
)
def test_escaping_paths_are_denied_and_nothing_is_stored(
    service: ArtifactService, blobs: LocalArtifactStore, path: str, message: str
) -> None:
    with pytest.raises(PermissionDenied, match=message):
        service.log_bytes(RUN, b"payload", path)
    assert service.list(RUN) == []
    assert list(blobs.iter_digests()) == []


@pytest.mark.parametrize("scope", ["runs", "runs/../x", "/runs/x", "runs/a b"])
def test_malformed_scopes_are_refused(service: ArtifactService, scope: str) -> None:
    with pytest.raises(InvalidInput, match=r"artifact scope .* is malformed"):
        service.log_bytes(scope, b"x", "x.bin")


def test_scopes_are_separate(service: ArtifactService) -> None:
    service.log_text(RUN, "one", "a.txt")
    service.log_text(OTHER, "two", "a.txt")
    assert service.read_bytes(RUN, "a.txt") == b"one"
    assert service.read_bytes(OTHER, "a.txt") == b"two"


def test_identical_files_in_two_scopes_share_one_blob(
    service: ArtifactService, blobs: LocalArtifactStore
) -> None:
    a = service.log_bytes(RUN, b"same", "x.bin")
    b = service.log_bytes(OTHER, b"same", "y.bin")
    assert a.digest == b.digest
    assert list(blobs.iter_digests()) == [a.digest]


# -- folders ----------------------------------------------------------------------------

FILES = {
    "model.skops": b"model bytes",
    "data/train.csv": b"x,y\n1,2\n",
    "data/deep/er/test.csv": b"x,y\n3,4\n",
    "same-as-model.skops": b"model bytes",
}


def test_log_dir_and_download_round_trip(service: ArtifactService, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", FILES)
    entries = service.log_dir(RUN, src, "bundle")
    assert [e.path for e in entries] == sorted(f"bundle/{p}" for p in FILES)
    assert service.list(RUN, "bundle/data") == [e for e in entries if "/data/" in e.path]
    out = service.download(RUN, "bundle", tmp_path / "out")
    assert out == tmp_path / "out" / "bundle"
    assert _read_tree(out) == FILES
    everything = service.download(RUN, "", tmp_path / "all")
    assert everything == tmp_path / "all"
    assert _read_tree(everything / "bundle") == FILES


def test_download_of_one_file_keeps_its_logical_path(
    service: ArtifactService, tmp_path: Path
) -> None:
    service.log_dir(RUN, _tree(tmp_path / "src", FILES))
    got = service.download(RUN, "data/deep/er/test.csv", tmp_path / "out")
    assert got == tmp_path / "out" / "data" / "deep" / "er" / "test.csv"
    assert got.read_bytes() == b"x,y\n3,4\n"
    assert _read_tree(tmp_path / "out") == {"data/deep/er/test.csv": b"x,y\n3,4\n"}


def test_log_dir_of_an_empty_folder_logs_nothing(service: ArtifactService, tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    assert service.log_dir(RUN, tmp_path / "empty") == []
    assert service.list(RUN) == []


def test_log_dir_follows_symlinks_inside_the_folder(
    service: ArtifactService, tmp_path: Path
) -> None:
    src = _tree(tmp_path / "src", {"v3/model.bin": b"v3"})
    (src / "latest").symlink_to(src / "v3")
    (src / "model.bin").symlink_to("v3/model.bin")
    entries = service.log_dir(RUN, src)
    assert {e.path: e.digest for e in entries} == {
        "latest/model.bin": _sha(b"v3"),
        "model.bin": _sha(b"v3"),
        "v3/model.bin": _sha(b"v3"),
    }


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_log_dir_refuses_symlinks_leading_outside_and_stores_nothing(
    service: ArtifactService, blobs: LocalArtifactStore, tmp_path: Path, kind: str
) -> None:
    secret = _tree(tmp_path / "secret", {"id_rsa": b"private key"})
    src = _tree(tmp_path / "src", {"ok.txt": b"fine"})
    (src / "leak").symlink_to(secret / "id_rsa" if kind == "file" else secret)
    with pytest.raises(PermissionDenied, match=r"leak is a symlink to .*secret.*, outside"):
        service.log_dir(RUN, src)
    assert service.list(RUN) == []
    assert list(blobs.iter_digests()) == []


def test_log_dir_refuses_a_symlink_loop(service: ArtifactService, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {"a/file.txt": b"x"})
    (src / "a" / "back").symlink_to(src)
    with pytest.raises(InvalidInput, match="symlink to one of its own parent folders"):
        service.log_dir(RUN, src)


def test_log_dir_refuses_a_dangling_symlink(service: ArtifactService, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {"ok.txt": b"fine"})
    (src / "gone").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InvalidInput, match="gone is a dangling symlink"):
        service.log_dir(RUN, src)


def test_log_dir_writes_the_index_only_after_every_blob(
    service: ArtifactService,
    blobs: LocalArtifactStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src = _tree(tmp_path / "src", FILES)
    real = blobs.put_file

    def fail_on_train(path: Path) -> Any:
        if path.name == "train.csv":
            raise OSError(5, "Input/output error")
        return real(path)

    monkeypatch.setattr(blobs, "put_file", fail_on_train)
    with pytest.raises(OSError, match="Input/output error"):
        service.log_dir(RUN, src)
    assert service.list(RUN) == []


def test_log_dir_of_a_missing_folder_or_a_file(service: ArtifactService, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such folder"):
        service.log_dir(RUN, tmp_path / "absent")
    (tmp_path / "f.txt").write_bytes(b"x")
    with pytest.raises(InvalidInput, match="is not a folder; log a single file with log_file"):
        service.log_dir(RUN, tmp_path / "f.txt")


# -- files versus folders ---------------------------------------------------------------


def test_a_file_cannot_become_a_folder(service: ArtifactService, tmp_path: Path) -> None:
    service.log_text(RUN, "x", "a")
    with pytest.raises(
        Conflict, match=r"'a' in runs/.* is already a file, so it cannot become a folder"
    ):
        service.log_text(RUN, "y", "a/b.txt")
    with pytest.raises(Conflict, match=r"'a' in runs/.* is already a file"):
        service.log_dir(RUN, _tree(tmp_path / "src", {"b.txt": b"y"}), "a")
    assert [e.path for e in service.list(RUN)] == ["a"]


def test_a_folder_cannot_become_a_file(service: ArtifactService, tmp_path: Path) -> None:
    service.log_text(RUN, "x", "a/b/c.txt")
    with pytest.raises(
        Conflict, match=r"'a/b' in runs/.* is already a folder, so it cannot become a file"
    ):
        service.log_text(RUN, "y", "a/b")
    with pytest.raises(Conflict, match=r"'a' in runs/.* is already a folder"):
        service.log_dir(RUN, _tree(tmp_path / "src", {"a": b"y"}))


# -- reading ----------------------------------------------------------------------------


def test_list_matches_whole_names_only(service: ArtifactService) -> None:
    service.log_text(RUN, "1", "model/a.txt")
    service.log_text(RUN, "2", "model2/b.txt")
    service.log_text(RUN, "3", "model.txt")
    assert [e.path for e in service.list(RUN, "model")] == ["model/a.txt"]
    assert [e.path for e in service.list(RUN, "model/")] == ["model/a.txt"]
    assert [e.path for e in service.list(RUN, "model.txt")] == ["model.txt"]
    assert service.list(RUN, "mod") == []


def test_open_streams_and_verifies(service: ArtifactService, blobs: LocalArtifactStore) -> None:
    entry = service.log_bytes(RUN, b"0123456789" * 1000, "data.bin")
    with service.open(RUN, "data.bin") as f:
        assert f.read(10) == b"0123456789"
    _corrupt(blobs, entry.digest, b"9" * 10_000)
    with pytest.raises(IntegrityError, match=f"{entry.digest} .* is corrupted"):
        service.read_bytes(RUN, "data.bin")


def test_opening_a_folder_or_nothing_is_not_found(service: ArtifactService) -> None:
    service.log_text(RUN, "x", "model/a.txt")
    with pytest.raises(NotFound, match=r"'model' in runs/.* is a folder, not a file"):
        service.open(RUN, "model")
    with pytest.raises(NotFound, match=r"no artifact 'nothing.txt'"):
        service.open(RUN, "nothing.txt")


def test_an_entry_whose_blob_vanished_says_so(
    service: ArtifactService, blobs: LocalArtifactStore, tmp_path: Path
) -> None:
    entry = service.log_text(RUN, "x", "a.txt")
    blobs.delete(entry.digest)
    with pytest.raises(
        NotFound, match=r"'a.txt' in runs/.* names blob .* missing from the artifact store"
    ):
        service.read_bytes(RUN, "a.txt")
    with pytest.raises(NotFound, match="missing from the artifact store"):
        service.download(RUN, "a.txt", tmp_path / "out")


# -- downloading ------------------------------------------------------------------------


def test_download_of_a_corrupted_blob_removes_what_it_wrote(
    service: ArtifactService, blobs: LocalArtifactStore, tmp_path: Path
) -> None:
    entries = service.log_dir(RUN, _tree(tmp_path / "src", {"a/1.txt": b"one", "b/2.txt": b"two"}))
    _corrupt(blobs, entries[1].digest, b"owt")
    out = tmp_path / "out"
    _tree(out, {"keep.txt": b"mine"})
    with pytest.raises(IntegrityError, match="is corrupted"):
        service.download(RUN, "", out)
    assert _read_tree(out) == {"keep.txt": b"mine"}
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_download_never_follows_a_symlink_out_of_the_destination(
    service: ArtifactService, tmp_path: Path
) -> None:
    service.log_text(RUN, "payload", "model/x.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "model").symlink_to(outside)
    with pytest.raises(PermissionDenied, match="leads outside the download folder"):
        service.download(RUN, "model", out)
    assert list(outside.iterdir()) == []


def test_download_ignores_index_paths_that_would_escape(
    service: ArtifactService, sqlite_store: MetadataStore, tmp_path: Path
) -> None:
    entry = service.log_text(RUN, "payload", "ok.txt")
    # An index written by something else (an older client, a hand-edited database).
    sqlite_store.put_artifact_entries(
        [ArtifactEntry(RUN, "../evil.txt", entry.digest, entry.size, 1)]
    )
    out = tmp_path / "deep" / "out"
    with pytest.raises(PermissionDenied, match=r"contains '..'"):
        service.download(RUN, "", out)
    assert not (tmp_path / "deep" / "evil.txt").exists()


def test_download_of_nothing_is_not_found(service: ArtifactService, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"runs/0123456789abcdef has no artifacts"):
        service.download(RUN, "", tmp_path / "out")
    service.log_text(RUN, "x", "a.txt")
    with pytest.raises(NotFound, match=r"no artifact 'b.txt' in runs/"):
        service.download(RUN, "b.txt", tmp_path / "out")


def test_download_overwrites_an_existing_file(service: ArtifactService, tmp_path: Path) -> None:
    service.log_text(RUN, "new", "a.txt")
    out = _tree(tmp_path / "out", {"a.txt": b"old"})
    service.download(RUN, "a.txt", out)
    assert (out / "a.txt").read_bytes() == b"new"


# -- deleting ---------------------------------------------------------------------------


def test_delete_a_file_keeps_names_that_only_share_its_prefix(
    service: ArtifactService, blobs: LocalArtifactStore
) -> None:
    a = service.log_text(RUN, "a", "a.txt")
    service.log_text(RUN, "backup", "a.txt.bak")
    assert service.delete(RUN, "a.txt") == 1
    assert [e.path for e in service.list(RUN)] == ["a.txt.bak"]
    assert not blobs.exists(a.digest)


def test_delete_a_folder_keeps_siblings_sharing_its_prefix(service: ArtifactService) -> None:
    service.log_text(RUN, "1", "model/a.txt")
    service.log_text(RUN, "2", "model/sub/b.txt")
    service.log_text(RUN, "3", "model2/c.txt")
    assert service.delete(RUN, "model/") == 2
    assert [e.path for e in service.list(RUN)] == ["model2/c.txt"]


def test_delete_everything_collects_blobs_no_longer_referenced(
    service: ArtifactService, blobs: LocalArtifactStore
) -> None:
    shared = service.log_bytes(RUN, b"shared", "shared.bin")
    own = service.log_bytes(RUN, b"own", "own.bin")
    service.log_bytes(OTHER, b"shared", "copy.bin")
    assert service.delete(RUN) == 2
    assert service.list(RUN) == []
    assert not blobs.exists(own.digest)
    assert blobs.exists(shared.digest)  # still named in the other run
    assert service.read_bytes(OTHER, "copy.bin") == b"shared"


def test_delete_of_nothing_returns_zero(service: ArtifactService) -> None:
    assert service.delete(RUN, "absent.txt") == 0
    assert service.delete(RUN) == 0


def test_overwriting_a_path_collects_the_old_blob(
    service: ArtifactService, blobs: LocalArtifactStore
) -> None:
    old = service.log_text(RUN, "v1", "model.txt")
    kept = service.log_text(RUN, "v1", "same-as-old.txt")
    service.log_text(RUN, "v2", "model.txt")
    assert service.read_bytes(RUN, "model.txt") == b"v2"
    assert kept.digest == old.digest
    assert blobs.exists(kept.digest)  # still referenced by same-as-old.txt
    service.delete(RUN, "same-as-old.txt")
    service.log_text(RUN, "v3", "model.txt")
    assert sorted(blobs.iter_digests()) == [_sha(b"v3")]


def test_log_dir_works_with_a_relative_folder(
    service: ArtifactService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path / "src", {"a.txt": b"a"})
    monkeypatch.chdir(tmp_path)
    assert [e.path for e in service.log_dir(RUN, "src")] == ["a.txt"]
