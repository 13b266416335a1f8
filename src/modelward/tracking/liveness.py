"""Deciding whether a RUNNING run's process is still alive.

A run records the host, pid and process start time of the process that runs it, and that
process heartbeats every few seconds. A RUNNING run is dead when:

- it ran on this host and its process is gone (or the pid now belongs to a newer process), or
- its last heartbeat is older than the heartbeat timeout (any host).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

__all__ = ["dead_runs", "process_identity", "this_host"]


def this_host() -> str:
    """This machine's host name, as recorded on runs."""
    return socket.gethostname()


def process_identity() -> tuple[int, float]:
    """Return this process's pid and start time (seconds since the epoch)."""
    import os

    import psutil

    pid = os.getpid()
    return pid, psutil.Process(pid).create_time()


def _alive(pid: int, started: float | None) -> bool:
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        created = proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    # A recycled pid belongs to a process that started later than ours did.
    return started is None or abs(created - started) < 1.0


def dead_runs(
    running: Iterable[tuple[str, str | None, int | None, float | None, int | None]],
    *,
    host: str,
    now_ms: int,
    timeout_ms: int,
) -> list[str]:
    """Return the ids of runs whose process is gone.

    Args:
        running: ``(run_id, host, pid, pid_start, heartbeat_at)`` of RUNNING runs.
        host: This machine's host name.
        now_ms: Current time in ms.
        timeout_ms: Heartbeat age after which a run on another host counts as dead.
    """
    dead = []
    for run_id, run_host, pid, pid_start, heartbeat_at in running:
        if run_host == host and pid is not None:
            if not _alive(pid, pid_start):
                dead.append(run_id)
        elif heartbeat_at is not None and now_ms - heartbeat_at > timeout_ms:
            dead.append(run_id)
    return dead
