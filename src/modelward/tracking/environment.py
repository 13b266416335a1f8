"""What a run ran on: Python, OS, packages, hardware, GPUs, and the git state of its source.

The environment (everything but git) is identical for every run of a process, so it is captured
once per process, stored once per digest, and linked to each run. Git state changes between
commits, so it goes into per-run tags (``mw.source.git_commit``, ``mw.source.git_dirty``, …).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Environment",
    "capture_environment",
    "detect_gpus",
    "git_state",
    "source_tags",
]

log = logging.getLogger(__name__)

#: Tag keys modelward sets on runs.
TAG_GIT_COMMIT = "mw.source.git_commit"
TAG_GIT_DIRTY = "mw.source.git_dirty"
TAG_GIT_BRANCH = "mw.source.git_branch"
TAG_GIT_REMOTE = "mw.source.git_remote"
TAG_ENTRY_POINT = "mw.source.entry_point"


@dataclass(frozen=True, slots=True)
class Environment:
    """A captured environment and its content digest."""

    digest: str
    data: dict[str, Any]


def _run(argv: list[str], cwd: Path | None = None, timeout: float = 5.0) -> str | None:
    try:
        out = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def detect_gpus() -> list[dict[str, Any]]:
    """Return the NVIDIA GPUs visible through ``nvidia-smi`` (name, memory, driver), if any."""
    if shutil.which("nvidia-smi") is None:
        return []
    out = _run(
        [
            "nvidia-smi",
            "--query-gpu=index,name,memory.total,driver_version",
            "--format=csv,noheader,nounits",
        ]
    )
    gpus = []
    for line in (out or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 4:
            gpus.append(
                {
                    "index": int(parts[0]),
                    "name": parts[1],
                    "memory_mb": float(parts[2]),
                    "driver": parts[3],
                }
            )
    return gpus


def _packages() -> dict[str, str]:
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.name
        if name:
            found[name.lower()] = dist.version
    return dict(sorted(found.items()))


def capture_environment() -> Environment:
    """Describe this process's environment (takes ~0.1 s: call it once per process)."""
    import psutil

    data: dict[str, Any] = {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "os": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
        },
        "host": socket.gethostname(),
        "cpu": {
            "logical": psutil.cpu_count(logical=True),
            "physical": psutil.cpu_count(logical=False),
            "processor": platform.processor() or platform.machine(),
        },
        "memory_mb": round(psutil.virtual_memory().total / 2**20),
        "gpus": detect_gpus(),
        "packages": _packages(),
    }
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return Environment(hashlib.sha256(canonical).hexdigest(), data)


def git_state(path: Path | None = None) -> dict[str, str]:
    """Return the git commit, branch, dirty flag and remote of the repository holding ``path``.

    Returns an empty dict outside a repository or without git. Credentials in the remote
    URL are removed.
    """
    where = path or Path.cwd()
    if shutil.which("git") is None:
        return {}
    commit = _run(["git", "rev-parse", "HEAD"], cwd=where)
    if not commit:
        return {}
    state = {TAG_GIT_COMMIT: commit}
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where)
    state[TAG_GIT_DIRTY] = "true" if status else "false"
    branch = _run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=where)
    if branch:
        state[TAG_GIT_BRANCH] = branch
    remote = _run(["git", "config", "--get", "remote.origin.url"], cwd=where)
    if remote:
        state[TAG_GIT_REMOTE] = _strip_credentials(remote)
    return state


def _strip_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def source_tags() -> dict[str, str]:
    """Tags naming the running program and its git state (computed per call; cache it)."""
    entry = sys.argv[0] if sys.argv and sys.argv[0] else "<interactive>"
    tags = {TAG_ENTRY_POINT: os.path.basename(entry) or entry}
    script_dir = Path(entry).resolve().parent if entry not in {"", "-c", "<interactive>"} else None
    if script_dir is not None and not script_dir.is_dir():
        script_dir = None
    try:
        tags.update(git_state(script_dir))
    except Exception as exc:  # git oddities must never break a run
        log.debug("git state unavailable: %s", exc)
    return tags
