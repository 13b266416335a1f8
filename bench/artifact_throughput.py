"""Throughput of the artifact stores: store and download one large file, verified.

Usage: PYTHONPATH=src python bench/artifact_throughput.py [SIZE_MIB]

Prints MiB/s for put_file and download on the local store and, when the rclone binary is
available, on S3 through a local `rclone serve s3`; a plain copy (shutil.copyfile) and
hashing alone are the baselines.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from modelward.store.artifacts.base import ArtifactStore
from modelward.store.artifacts.local import LocalArtifactStore

ACCESS, SECRET = "modelwardbenchaccess", "modelwardbenchsecret0123"


def timed(label: str, size: int, fn: Callable[[], object]) -> None:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"{label:<40} {size / 2**20 / seconds:8.0f} MiB/s  ({seconds:.2f} s)")


def bench_store(name: str, store: ArtifactStore, src: Path, work: Path, size: int) -> None:
    digest = hashlib.sha256(b"").hexdigest()

    def put() -> None:
        nonlocal digest
        digest = store.put_file(src).digest

    timed(f"{name}: put_file (new)", size, put)
    timed(f"{name}: put_file (already stored)", size, lambda: store.put_file(src))
    timed(
        f"{name}: download (verified)", size, lambda: store.download(digest, work / f"{name}.out")
    )


def start_rclone(root: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    binary = Path(sys.executable).parent / "rclone"
    found = str(binary) if binary.is_file() else shutil.which("rclone")
    if found is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [
        found,
        "serve",
        "s3",
        str(root),
        "--addr",
        f"127.0.0.1:{port}",
        "--auth-key",
        f"{ACCESS},{SECRET}",
        "--config",
        str(root / "none.conf"),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    return None


def main() -> None:
    size = int(sys.argv[1]) * 2**20 if len(sys.argv) > 1 else 256 * 2**20
    with tempfile.TemporaryDirectory(prefix="mw-bench-") as tmp:
        work = Path(tmp)
        src = work / "src.bin"
        block = bytes(range(256)) * 4096
        with src.open("wb") as f:
            for i in range(size // len(block)):
                f.write(i.to_bytes(8, "big") + block[8:])
        print(f"file: {size / 2**20:.0f} MiB, python {sys.version.split()[0]}")
        timed("baseline: shutil.copyfile", size, lambda: shutil.copyfile(src, work / "copy.bin"))
        timed(
            "baseline: sha256 of the file",
            size,
            lambda: hashlib.file_digest(src.open("rb"), "sha256"),
        )
        bench_store("local", LocalArtifactStore(work / "store"), src, work, size)
        served = work / "s3"
        served.mkdir()
        started = start_rclone(served)
        if started is None:
            print("s3: skipped (no rclone binary)")
            return
        proc, endpoint = started
        try:
            import boto3

            from modelward.store.artifacts.s3 import S3ArtifactStore

            session = boto3.session.Session(
                aws_access_key_id=ACCESS, aws_secret_access_key=SECRET, region_name="us-east-1"
            )
            session.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
            store = S3ArtifactStore("s3://bench/mw", endpoint_url=endpoint, session=session)
            bench_store("s3 (rclone serve s3, loopback)", store, src, work, size)
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
