"""Ingest: versions, identity, unchanged sources, progress, and what a failure leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from modelward.datasets import DatasetService
from modelward.datasets.sources.files import FileSource
from modelward.errors import InvalidInput, NotFound, SchemaViolation, Unavailable
from modelward.store.artifacts.local import LocalArtifactStore


def _csv(rows: int, offset: int = 0) -> str:
    return "id,value,label\n" + "".join(
        f"{i},{i * 0.5},{'ab'[i % 2]}\n" for i in range(offset, offset + rows)
    )


def _blob_count(blobs: LocalArtifactStore) -> int:
    return sum(1 for _ in blobs.iter_digests())


def test_versions_are_numbered_and_identical_content_is_not_copied(
    service: DatasetService, write: Callable[..., Path], blobs: LocalArtifactStore
) -> None:
    path = write("d.csv", _csv(5))
    first = service.ingest(path, name="d")
    path.write_text(_csv(6))
    second = service.ingest(path, name="d")
    same_bytes = service.ingest(write("copy.csv", _csv(6)), name="d")
    copy = write("crlf.csv", _csv(6).replace("\n", "\r\n"))  # other bytes, same data
    third = service.ingest(copy, name="d")
    assert (first.version.ref, second.version.ref) == ("d@1", "d@2")
    assert (same_bytes.version.ref, same_bytes.reused_by) == ("d@2", "fingerprint")
    assert (third.version.ref, third.created, third.reused_by) == ("d@2", False, "digest")
    assert [v.ref for v in service.versions("d")] == ["d@1", "d@2"]
    assert _blob_count(blobs) == 2
    assert service.ingest(copy, name="other").version.ref == "other@1"
    assert _blob_count(blobs) == 2  # same content, same blob


def test_an_unchanged_file_is_recognised_by_hashing_alone(
    service: DatasetService, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write("d.csv", _csv(50))
    first = service.ingest(path, name="d")
    assert first.version.source_fingerprint is not None

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the unchanged source was parsed")

    monkeypatch.setattr(FileSource, "read", no_parsing)
    again = service.ingest(path, name="d")
    assert (again.version.id, again.created, again.reused_by) == (
        first.version.id,
        False,
        "fingerprint",
    )
    monkeypatch.undo()
    # Same size, other bytes: hashed first, then read, and a new version.
    path.write_text(_csv(50).replace("ab"[0], "c"))
    changed = service.ingest(path, name="d")
    assert (changed.version.ref, changed.created) == ("d@2", True)
    # Other read options are another source.
    typed = service.ingest(path, name="d", types={"id": "float"})
    assert typed.version.ref == "d@3"


def test_progress_reports_the_bytes_read(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    path = write("d.csv", _csv(2000))

    class Recorder:
        def __init__(self) -> None:
            self.phases: list[tuple[str, int | None]] = []
            self.done = 0

        def start(self, description: str, total: int | None) -> None:
            self.phases.append((description, total))

        def advance(self, amount: int) -> None:
            self.done += amount

    progress = Recorder()
    service.ingest(path, name="d", progress=progress)
    size = path.stat().st_size
    assert progress.phases == [("reading", size)]
    assert progress.done == size


def test_a_failed_ingest_leaves_no_version_and_no_temporary_files(
    service: DatasetService,
    write: Callable[..., Path],
    blobs: LocalArtifactStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write("d.csv", _csv(100))

    def broken(*args: object, **kwargs: object) -> None:
        raise Unavailable("the metadata store went away")

    monkeypatch.setattr(service.store, "create_dataset_version", broken)
    with pytest.raises(Unavailable, match="the metadata store went away"):
        service.ingest(path, name="d")
    monkeypatch.undo()
    assert service.list() == []
    assert list(service.tmp_dir.iterdir()) == []
    # The blob may stay (content-addressed, unreferenced, collectable) but nothing names it.
    assert not any(service.store.blob_referenced(d) for d in blobs.iter_digests())


def test_a_source_error_mid_read_stores_no_blob(
    service: DatasetService,
    write: Callable[..., Path],
    blobs: LocalArtifactStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modelward.datasets.sources import files

    monkeypatch.setattr(files, "CSV_BLOCK_SIZE", 4096)
    path = write("late.csv", _csv(5000) + "1,2,3,4\n")
    with pytest.raises(InvalidInput, match="a row has 4 fields where the header has 3"):
        service.ingest(path, name="late")
    assert service.list() == []
    assert list(blobs.iter_digests()) == []
    assert list((blobs.root / "tmp").iterdir()) == []


def test_a_hard_expectation_failure_stores_nothing(
    service: DatasetService, write: Callable[..., Path], blobs: LocalArtifactStore
) -> None:
    path = write("d.csv", _csv(10))
    expect = {"columns": {"value": {"max": 2}, "label": {"allowed": ["a", "b"]}}}
    with pytest.raises(
        SchemaViolation, match="does not meet its expectations, nothing was stored"
    ) as info:
        service.ingest(path, name="d", expect=expect)
    report = info.value.details["report"]
    assert report["errors"] == 1
    failed = [r for r in report["results"] if not r["passed"]]
    assert [(r["column"], r["check"]) for r in failed] == [("value", "max")]
    assert failed[0]["observed"] == "5 value(s) above (range 0.0 .. 4.5)"
    assert service.list() == []
    # The Parquet file was streamed into the store while it was checked: an unreferenced blob
    # may stay (harmless, collectable), but no version and no artifact entry names it.
    assert not any(service.store.blob_referenced(d) for d in blobs.iter_digests())


def test_soft_expectations_warn_and_store(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    path = write("d.csv", _csv(10))
    expect = {"columns": {"value": {"max": {"value": 2, "severity": "warn"}}}, "rows": {"min": 5}}
    result = service.ingest(path, name="d", expect=expect)
    assert result.created
    assert result.report is not None
    assert result.report.passed
    assert result.warnings == (
        "expectation failed (warn): value max: expected values <= 2, observed 5 value(s) above "
        "(range 0.0 .. 4.5)",
    )


def test_expectations_also_apply_to_an_unchanged_source(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    path = write("d.csv", _csv(10))
    service.ingest(path, name="d")
    with pytest.raises(SchemaViolation, match="d@1 \\(the unchanged source's version\\) does not"):
        service.ingest(path, name="d", expect={"rows": {"min": 100}})


def test_a_missing_required_column_stops_at_the_first_batch(
    service: DatasetService, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelward.datasets.sources import files

    monkeypatch.setattr(files, "CSV_BLOCK_SIZE", 256)
    path = write("d.csv", _csv(20_000))
    seen: list[int] = []

    class Recorder:
        def start(self, description: str, total: int | None) -> None:
            pass

        def advance(self, amount: int) -> None:
            seen.append(amount)

    with pytest.raises(SchemaViolation, match="required"):
        service.ingest(path, name="d", expect={"columns": {"price": {}}}, progress=Recorder())
    assert sum(seen) < path.stat().st_size / 4


def test_names_are_checked(service: DatasetService, write: Callable[..., Path]) -> None:
    path = write("d.csv", _csv(2))
    for bad in ("", "wine@2", "a b", "x/y", "1abc"):
        with pytest.raises(InvalidInput, match="invalid dataset name"):
            service.ingest(path, name=bad)


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from modelward.datasets import DatasetService
    from modelward.store.artifacts.local import LocalArtifactStore
    from modelward.store.metadata import open_store

    from modelward.datasets.sources import files

    uri, blobs, work, source, flag = sys.argv[1:]
    files.CSV_BLOCK_SIZE = 16384

    class Slow:
        def start(self, description, total):
            pass

        def advance(self, amount):
            Path(flag).touch()
            time.sleep(0.05)  # slow enough to be killed mid-read

    service = DatasetService(open_store(uri), LocalArtifactStore(Path(blobs)), tmp_dir=Path(work))
    service.ingest(source, name="victim", progress=Slow())
    """
)


def test_kill_9_mid_ingest_leaves_no_version_behind(
    sqlite_uri: str, tmp_path: Path, write: Callable[..., Path], service: DatasetService
) -> None:
    source = write("big.csv", _csv(60_000))
    assert source.stat().st_size > 40 * 16384
    flag = tmp_path / "started"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _KILL_SCRIPT,
            sqlite_uri,
            str(tmp_path / "blobs"),
            str(service.tmp_dir),
            str(source),
            str(flag),
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert proc.poll() is None, "the ingest ended before it could be killed"
            assert time.monotonic() < deadline, "the ingest never started reading"
            time.sleep(0.01)
        time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert service.list() == []
    with pytest.raises(NotFound, match="dataset 'victim' does not exist"):
        service.get("victim")
    # At most a partial write in the store's tmp/ (safe to remove); no complete blob.
    assert list(service.blobs.iter_digests()) == []
    assert list(service.tmp_dir.iterdir()) == []
    result = service.ingest(source, name="victim")
    assert (result.version.ref, result.created) == ("victim@1", True)
