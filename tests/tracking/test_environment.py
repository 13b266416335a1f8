"""What a run ran on: Python, packages, hardware, GPUs and the git state of its source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modelward.client import Client
from modelward.config import Settings
from modelward.tracking import environment
from modelward.tracking.environment import capture_environment, detect_gpus, git_state, source_tags
from tests.tracking._util import child_env


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit on branch ``main`` and a remote with credentials."""
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    (path / "train.py").write_text("print('hi')\n")
    _git(path, "add", "train.py")
    _git(path, "commit", "-q", "-m", "first")
    _git(path, "remote", "add", "origin", "https://alice:s3cret@git.example.com/team/repo.git")
    return path


def test_capture_describes_this_process() -> None:
    import platform

    env = capture_environment()
    assert env.data["python"]["version"] == platform.python_version()
    assert env.data["python"]["executable"] == sys.executable
    assert env.data["cpu"]["logical"] >= 1
    assert env.data["memory_mb"] > 0
    assert "pytest" in env.data["packages"]
    assert "sqlalchemy" in env.data["packages"]
    assert list(env.data["packages"]) == sorted(env.data["packages"])
    assert len(env.digest) == 64
    assert capture_environment().digest == env.digest  # same process, same digest


def test_git_state_of_a_clean_then_dirty_repository(repo: Path) -> None:
    state = git_state(repo)
    assert state == {
        "mw.source.git_commit": _git(repo, "rev-parse", "HEAD"),
        "mw.source.git_dirty": "false",
        "mw.source.git_branch": "main",
        "mw.source.git_remote": "https://git.example.com/team/repo.git",
    }
    (repo / "notes.txt").write_text("untracked files do not make a checkout dirty")
    assert git_state(repo)["mw.source.git_dirty"] == "false"
    (repo / "train.py").write_text("print('changed')\n")
    assert git_state(repo)["mw.source.git_dirty"] == "true"


def test_git_state_outside_a_repository_is_empty(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert git_state(tmp_path / "plain") == {}


def test_source_tags_follow_the_running_script(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(repo / "train.py")])
    tags = source_tags()
    assert tags["mw.source.entry_point"] == "train.py"
    assert tags["mw.source.git_commit"] == _git(repo, "rev-parse", "HEAD")


def test_a_script_in_a_repository_records_its_commit(repo: Path, tmp_path: Path) -> None:
    (repo / "train.py").write_text(
        "import sys\n"
        "import modelward as mw\n"
        "mw.connect(sys.argv[1], artifacts=sys.argv[2], system_metrics=False)\n"
        "with mw.start_run(experiment='git') as run:\n"
        "    mw.log_metric('m', 1.0)\n"
        "print(run.id)\n"
    )
    _git(repo, "commit", "-q", "-am", "script")
    uri = f"sqlite:///{tmp_path / 'mw.db'}"
    done = subprocess.run(
        [sys.executable, str(repo / "train.py"), uri, str(tmp_path / "artifacts")],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    with Client(uri, settings=Settings.defaults(system_metrics=False)) as client:
        run = client.tracking.get_run(done.stdout.strip())
        env = client.store.get_environment(run.environment_digest or "")
    assert run.tags["mw.source.git_commit"] == _git(repo, "rev-parse", "HEAD")
    assert run.tags["mw.source.git_dirty"] == "false"
    assert run.tags["mw.source.git_remote"] == "https://git.example.com/team/repo.git"
    assert run.tags["mw.source.entry_point"] == "train.py"
    assert env["python"]["version"] == f"{sys.version_info[0]}.{sys.version_info[1]}." + str(
        sys.version_info[2]
    )


def test_gpus_are_read_from_nvidia_smi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment.shutil, "which", lambda name: None)
    assert detect_gpus() == []
    monkeypatch.setattr(environment.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(
        environment,
        "_run",
        lambda argv, cwd=None, timeout=5.0: "0, NVIDIA H100 80GB HBM3, 81559, 550.54\nbad line",
    )
    assert detect_gpus() == [
        {"index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_mb": 81559.0, "driver": "550.54"}
    ]
