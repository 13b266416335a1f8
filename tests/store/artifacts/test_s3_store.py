"""S3ArtifactStore specifics, against a real ``rclone serve s3`` (see conftest.py)."""

from __future__ import annotations

import hashlib
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelward.errors import (
    IntegrityError,
    InvalidInput,
    MissingDependency,
    ModelwardError,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from modelward.store.artifacts import open_artifact_store

pytestmark = pytest.mark.s3

MakeStore = Callable[..., Any]


def test_blob_key_layout_and_digest_metadata(
    make_s3_store: MakeStore, s3_server: Any, s3_bucket: str
) -> None:
    store = make_s3_store(prefix="team/project")
    blob = store.put_bytes(b"layout")
    digest = hashlib.sha256(b"layout").hexdigest()
    key = f"team/project/blobs/sha256/{digest[:2]}/{digest}"
    head = s3_server.client().head_object(Bucket=s3_bucket, Key=key)
    assert {k.lower(): v for k, v in head["Metadata"].items()} == {"sha256": blob.digest}
    # rclone keeps real files: the blob is on disk under the served folder.
    assert (s3_server.root / s3_bucket / key).read_bytes() == b"layout"
    assert store.uri == f"s3://{s3_bucket}/team/project"


def test_existing_blob_is_not_uploaded_again(
    make_s3_store: MakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_s3_store()
    src = tmp_path / "model.bin"
    src.write_bytes(b"weights" * 1000)
    store.put_file(src)
    calls: list[str] = []
    real = store._client.upload_file
    monkeypatch.setattr(
        store._client, "upload_file", lambda *a, **k: calls.append(a[2]) or real(*a, **k)
    )
    assert store.put_file(src).digest == hashlib.sha256(b"weights" * 1000).hexdigest()
    store.put_bytes(b"weights" * 1000)
    assert calls == []
    store.put_bytes(b"other content")
    assert len(calls) == 1


def test_multipart_upload_round_trips(make_s3_store: MakeStore, tmp_path: Path) -> None:
    store = make_s3_store(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20)
    data = b"".join(i.to_bytes(4, "big") * 65536 for i in range(44))  # 11 MiB: three parts
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    blob = store.put_file(src)
    assert blob.digest == hashlib.sha256(data).hexdigest()
    assert store.download(blob.digest, tmp_path / "back.bin").read_bytes() == data


def test_blob_corrupted_on_the_server_disk_fails_verification(
    make_s3_store: MakeStore, s3_server: Any, s3_bucket: str, tmp_path: Path
) -> None:
    store = make_s3_store()
    blob = store.put_bytes(b"original content")
    on_disk = s3_server.root / s3_bucket / store._key(blob.digest)
    on_disk.write_bytes(b"bit-rotted conte")
    with pytest.raises(IntegrityError, match="is corrupted"):
        store.get_bytes(blob.digest)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError, match="is corrupted"):
        store.download(blob.digest, out / "model.bin")
    assert list(out.iterdir()) == []


def test_file_changed_during_upload_is_refused_and_not_kept(
    make_s3_store: MakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_s3_store()
    src = tmp_path / "growing.log"
    src.write_bytes(b"first line\n")
    real = store._upload

    def upload_while_appending(path: Path, blob: Any, key: str) -> None:
        with path.open("ab") as f:
            f.write(b"second line\n")
        real(path, blob, key)

    monkeypatch.setattr(store, "_upload", upload_while_appending)
    with pytest.raises(ModelwardError, match="changed while it was being stored"):
        store.put_file(src)
    assert list(store.iter_digests()) == []


@pytest.mark.parametrize("operation", ["put", "get", "exists"])
def test_wrong_secret_key_raises_permission_denied(
    make_s3_store: MakeStore, s3_server: Any, operation: str
) -> None:
    blob = make_s3_store().put_bytes(b"private")
    intruder = make_s3_store(session=s3_server.session(secret="not-the-secret-key"))
    calls = {
        "put": lambda: intruder.put_bytes(b"sneaky"),
        "get": lambda: intruder.get_bytes(blob.digest),
        "exists": lambda: intruder.exists(blob.digest),
    }
    with pytest.raises(PermissionDenied, match=r"S3 refused .* Check the credentials"):
        calls[operation]()


def test_unknown_access_key_raises_permission_denied(make_s3_store: MakeStore) -> None:
    import boto3

    stranger = boto3.session.Session(
        aws_access_key_id="nobodyknowsme",
        aws_secret_access_key="whatever-secret",
        region_name="us-east-1",
    )
    store = make_s3_store(session=stranger)
    with pytest.raises(PermissionDenied, match="InvalidAccessKeyId"):
        store.get_bytes(hashlib.sha256(b"x").hexdigest())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint_raises_unavailable_naming_it(s3_server: Any) -> None:
    from modelward.store.artifacts.s3 import S3ArtifactStore

    endpoint = f"http://127.0.0.1:{_closed_port()}"
    store = S3ArtifactStore(
        "s3://some-bucket/x",
        endpoint_url=endpoint,
        session=s3_server.session(),
        max_attempts=1,
        connect_timeout=0.5,
        read_timeout=0.5,
    )
    with pytest.raises(Unavailable, match=f"cannot reach the S3 endpoint {endpoint}"):
        store.put_bytes(b"nowhere to go")
    with pytest.raises(Unavailable, match="s3_endpoint_url"):
        store.get_bytes(hashlib.sha256(b"x").hexdigest())


def test_missing_bucket_raises_not_found_naming_it(s3_server: Any) -> None:
    from modelward.store.artifacts.s3 import S3ArtifactStore

    store = S3ArtifactStore(
        "s3://no-such-bucket/x", endpoint_url=s3_server.endpoint, session=s3_server.session()
    )
    with pytest.raises(NotFound, match="bucket 'no-such-bucket' does not exist"):
        store.put_bytes(b"homeless")
    with pytest.raises(NotFound, match="bucket 'no-such-bucket' does not exist"):
        store.get_bytes(hashlib.sha256(b"x").hexdigest())


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("s3://", "does not name a valid bucket"),
        ("s3://ab/x", "does not name a valid bucket"),
        ("s3://bucket/a//b", "empty, '.' or '..' segment"),
        ("s3://bucket/../x", "empty, '.' or '..' segment"),
    ],
)
def test_malformed_location_is_rejected(location: str, message: str) -> None:
    from modelward.store.artifacts.s3 import S3ArtifactStore

    with pytest.raises(InvalidInput, match=message):
        S3ArtifactStore(location)


def test_factory_opens_s3_with_the_endpoint_setting(s3_server: Any, s3_bucket: str) -> None:
    from modelward.store.artifacts.s3 import S3ArtifactStore

    store = open_artifact_store(f"s3://{s3_bucket}/runs", s3_endpoint_url=s3_server.endpoint)
    assert isinstance(store, S3ArtifactStore)
    assert (store.bucket, store.prefix, store.endpoint) == (s3_bucket, "runs", s3_server.endpoint)


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingDependency, match=r"pip install 'modelward\[s3\]'"):
        open_artifact_store("s3://bucket/prefix")
