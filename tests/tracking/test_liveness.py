"""Dead-run detection, and a process killed with SIGKILL in the middle of logging."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil

from modelward.client import Client
from modelward.config import Settings
from modelward.entities import RunStatus
from modelward.tracking.liveness import dead_runs, process_identity, this_host
from tests.tracking._util import child_env

NOW = 10_000_000
TIMEOUT = 60_000


def test_a_live_local_process_is_not_dead() -> None:
    pid, started = process_identity()
    assert pid == os.getpid()
    alive = [("r", this_host(), pid, started, 0)]
    assert dead_runs(alive, host=this_host(), now_ms=NOW, timeout_ms=TIMEOUT) == []


def test_local_runs_are_judged_by_their_process() -> None:
    pid, started = process_identity()
    host = this_host()
    running = [
        ("gone", host, 2**22 + 11, 1.0, NOW),  # no such pid
        ("recycled", host, pid, started - 3600, NOW),  # our pid, but a process an hour older
        ("no-pid", host, None, None, NOW - TIMEOUT - 1),  # falls back to the heartbeat
    ]
    assert dead_runs(running, host=host, now_ms=NOW, timeout_ms=TIMEOUT) == [
        "gone",
        "recycled",
        "no-pid",
    ]


def test_remote_runs_are_judged_by_their_heartbeat() -> None:
    running = [
        ("stale", "other", 1, 1.0, NOW - TIMEOUT - 1),
        ("fresh", "other", 1, 1.0, NOW - TIMEOUT),
        ("never", "other", 1, 1.0, None),
    ]
    assert dead_runs(running, host=this_host(), now_ms=NOW, timeout_ms=TIMEOUT) == ["stale"]


def test_a_zombie_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    proc = psutil.Process(child.pid)
    started = proc.create_time()
    deadline = time.monotonic() + 10
    while proc.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        running = [("z", this_host(), child.pid, started, NOW)]
        assert dead_runs(running, host=this_host(), now_ms=NOW, timeout_ms=TIMEOUT) == ["z"]
    finally:
        child.wait()


CHILD = """
import sys
import modelward as mw

mw.connect(sys.argv[1], artifacts=sys.argv[2], system_metrics=False,
           capture_environment=False, metric_flush_interval=0.01)
run = mw.start_run(experiment="crash")
print(run.id, flush=True)
step = 0
while True:
    for _ in range(500):
        mw.log_metric("x", float(step), step=step)
        step += 1
    mw.flush()
    print(step, flush=True)
"""


def test_sigkill_mid_logging_leaves_a_consistent_store_and_a_killed_run(tmp_path: Path) -> None:
    db = tmp_path / "mw.db"
    uri = f"sqlite:///{db}"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), uri, str(tmp_path / "artifacts")],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        run_id = child.stdout.readline().strip()
        assert len(run_id) == 32, child.stderr.read() if child.stderr else ""
        flushed = 0
        while flushed < 5000:
            flushed = int(child.stdout.readline())
        # Kill while it keeps logging (and its flusher thread keeps writing).
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert child.returncode == -signal.SIGKILL

    check = sqlite3.connect(db)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        check.close()

    with Client(uri, settings=Settings.defaults(system_metrics=False)) as client:
        assert client.store.get_run(run_id).status is RunStatus.RUNNING  # until someone looks
        run = client.tracking.get_run(run_id)
        history = client.tracking.get_metric_history(run_id, "x")
    assert run.status is RunStatus.KILLED
    assert run.end_time is not None
    steps = [m.step for m in history]
    # Every point flushed before the kill is there, each once: a gap-free prefix of the log.
    assert len(steps) >= flushed
    assert steps == list(range(len(steps)))
    assert run.metrics["x"] == float(len(steps) - 1)
