"""The top-level SDK (``import modelward as mw``) end to end on SQLite."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

import modelward as mw
from modelward import fluent
from modelward.entities import RunStatus
from modelward.errors import Conflict, FilterSyntaxError, InvalidInput, NotFound


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A connected default client on a fresh store under tmp_path; globals reset after."""
    for name in ("MODELWARD_HOME", "MODELWARD_URI", "MODELWARD_ARTIFACTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(fluent, "_client", None)
    monkeypatch.setattr(fluent, "_experiment", None)
    monkeypatch.setattr(fluent, "_stack", [])
    client = mw.connect(
        f"sqlite:///{tmp_path / 'mw.db'}",
        artifacts=str(tmp_path / "artifacts"),
        system_metrics=False,
        capture_environment=False,
    )
    yield tmp_path
    client.close()


def test_the_documented_workflow(home: Path) -> None:
    with mw.start_run(experiment="exp", name="r1", tags={"k": "v"}) as run:
        mw.log_param("lr", 0.1)
        mw.log_params({"depth": 3})
        mw.log_metric("loss", 0.5, step=1)
        mw.log_metrics({"acc": 0.9}, step=1)
        mw.set_tag("team", "x")
        assert mw.active_run() is run
    mw.flush()
    assert isinstance(run.id, str)
    assert run.status is RunStatus.FINISHED
    got = mw.get_run(run.id)
    assert dict(got.params) == {"lr": "0.1", "depth": "3"}
    assert {k: got.tags[k] for k in ("k", "team")} == {"k": "v", "team": "x"}
    assert dict(got.metrics) == {"loss": 0.5, "acc": 0.9}
    assert got.status is RunStatus.FINISHED
    assert got.name == "r1"
    assert got.end_time is not None
    assert got.start_time <= got.end_time
    history = mw.get_metric_history(run.id, "loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.5)]
    [(step, timestamp, value)] = history  # documented as (step, timestamp, value) points
    assert (step, value) == (1, 0.5)
    assert timestamp == history[0].timestamp >= got.start_time
    page = mw.search_runs(
        experiment="exp",
        filter="metrics.acc > 0.8 and params.depth = '3'",
        order_by=["metrics.acc DESC"],
        max_results=100,
    )
    assert [r.id for r in page.items] == [run.id]
    assert page.next_token is None
    assert mw.active_run() is None


def test_nested_runs(home: Path) -> None:
    with mw.start_run(experiment="exp") as parent:
        with mw.start_run(nested=True, name="child") as child:
            mw.log_metric("m", 1.0)
            assert mw.active_run() is child
        assert mw.active_run() is parent
        with pytest.raises(Conflict, match="is already active; end it first or pass nested=True"):
            mw.start_run()
        mw.log_metric("m", 2.0)
    child_run = mw.get_run(child.id)
    assert child_run.parent_id == parent.id
    assert child_run.experiment_id == parent.experiment_id
    assert child_run.metrics == {"m": 1.0}
    assert mw.get_run(parent.id).metrics == {"m": 2.0}
    found = mw.search_runs("exp", filter=f"parent_id = '{parent.id}'")
    assert [r.name for r in found.items] == ["child"]


def test_exception_ends_the_run_failed(home: Path) -> None:
    def train() -> None:
        with mw.start_run(experiment="exp") as run:
            mw.log_metric("m", 1.0)
            raise RuntimeError(f"boom in {run.id}")

    with pytest.raises(RuntimeError, match="boom in") as info:
        train()
    run_id = str(info.value).removeprefix("boom in ")
    got = mw.get_run(run_id)
    assert (got.status, got.metrics) == (RunStatus.FAILED, {"m": 1.0})
    assert got.end_time is not None
    assert mw.active_run() is None


def test_keyboard_interrupt_ends_the_run_killed(home: Path) -> None:
    with pytest.raises(KeyboardInterrupt), mw.start_run(experiment="exp") as run:
        raise KeyboardInterrupt
    assert mw.get_run(run.id).status is RunStatus.KILLED


def test_end_run_ends_the_innermost_run_once(home: Path) -> None:
    outer = mw.start_run(experiment="exp")
    inner = mw.start_run(nested=True)
    mw.end_run("FAILED")
    assert inner.status is RunStatus.FAILED
    assert mw.active_run() is outer
    inner.end()  # idempotent
    mw.end_run()
    mw.end_run()  # nothing active: no-op
    assert mw.get_run(outer.id).status is RunStatus.FINISHED


def test_logging_without_an_active_run_says_how_to_start_one(home: Path) -> None:
    for call in (
        lambda: mw.log_metric("m", 1.0),
        lambda: mw.log_metrics({"m": 1.0}),
        lambda: mw.log_param("p", 1),
        lambda: mw.set_tag("t", "x"),
    ):
        with pytest.raises(InvalidInput, match="no active run; start one with"):
            call()


def test_explicit_run_id_logs_to_that_run(home: Path) -> None:
    with mw.start_run(experiment="exp") as run:
        pass
    mw.log_metric("late", 3.0, step=2, run_id=run.id)
    mw.set_tags({"after": "yes"}, run_id=run.id)
    got = mw.get_run(run.id)
    assert got.metrics == {"late": 3.0}
    assert got.tags["after"] == "yes"


def test_input_errors_are_clear_and_leave_no_run_behind(home: Path) -> None:
    with pytest.raises(InvalidInput, match="tag key must be a string, not int"):
        mw.start_run(experiment="exp", tags={1: "x"})  # type: ignore[dict-item]
    assert mw.active_run() is None
    with mw.start_run(experiment="exp") as run:
        with pytest.raises(InvalidInput, match="tag key must be a string, not int"):
            mw.set_tag(1, "x")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match=r"is 10,000,000 characters.*as an artifact"):
            mw.log_param("big", "x" * 10_000_000)
        with pytest.raises(InvalidInput, match="metric 'loss' needs a number, not str"):
            mw.log_metric("loss", "0.5")  # type: ignore[arg-type]
        mw.log_param("lr", 0.1)
        mw.log_param("lr", 0.1)
        with pytest.raises(Conflict, match="params are immutable"):
            mw.log_param("lr", 0.2)
    assert len(mw.search_runs("exp").items) == 1
    assert mw.get_run(run.id).status is RunStatus.FINISHED


def test_nan_and_infinite_metrics_are_kept(home: Path) -> None:
    with mw.start_run(experiment="exp") as run:
        for value in (float("nan"), float("inf"), float("-inf")):
            mw.log_metric("v", value)
    values = [m.value for m in mw.get_metric_history(run.id, "v")]
    assert math.isnan(values[0])
    assert values[1:] == [float("inf"), float("-inf")]
    assert mw.get_run(run.id).metrics["v"] == float("-inf")


def test_reading_errors(home: Path) -> None:
    with pytest.raises(NotFound, match="run 'nope' does not exist"):
        mw.get_run("nope")
    with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
        mw.search_runs("nope")
    with pytest.raises(FilterSyntaxError, match=r"column 13 \('~'\)"):
        mw.search_runs(filter="metrics.acc ~ 1")


def test_set_experiment_and_paging(home: Path) -> None:
    exp = mw.set_experiment("chosen")
    for i in range(7):
        with mw.start_run(name=f"r{i}") as run:
            mw.log_metric("i", float(i))
        assert run.experiment_id == exp.id
    names: list[str] = []
    token = None
    while True:
        page = mw.search_runs("chosen", order_by="metrics.i", max_results=3, page_token=token)
        names.extend(r.name for r in page.items)
        token = page.next_token
        if token is None:
            break
    assert names == [f"r{i}" for i in range(7)]
    assert mw.get_experiment("chosen") == exp


def test_active_run_info_is_a_fresh_snapshot(home: Path) -> None:
    with mw.start_run(experiment="exp") as run:
        run.log_param("a", 1)
        run.log_metric("m", 2.0)
        run.log_metrics({"n": 3.0})
        run.set_tag("t", "x")
        info = run.info
        assert dict(info.params) == {"a": "1"}
        assert dict(info.metrics) == {"m": 2.0, "n": 3.0}
        assert info.status is RunStatus.RUNNING
        assert info.tags["t"] == "x"
    assert "FINISHED" in repr(run)


def test_connect_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fluent, "_client", None)
    monkeypatch.setattr(fluent, "_stack", [])
    monkeypatch.setenv("MODELWARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MODELWARD_SYSTEM_METRICS", "false")
    monkeypatch.setenv("MODELWARD_CAPTURE_ENVIRONMENT", "false")
    monkeypatch.delenv("MODELWARD_URI", raising=False)
    client = mw.get_client()  # built from the environment on first use
    try:
        assert mw.get_client() is client
        with mw.start_run(experiment="env") as run:
            pass
        assert (tmp_path / "home" / "modelward.db").is_file()
        monkeypatch.setenv("MODELWARD_URI", f"sqlite:///{tmp_path / 'other.db'}")
        other = mw.connect()
        assert other is mw.get_client()
        assert other is not client
        with pytest.raises(NotFound, match=f"run '{run.id}' does not exist"):
            mw.get_run(run.id)
    finally:
        mw.get_client().close()


def test_artifacts_are_logged_to_the_run(home: Path) -> None:
    pytest.importorskip(
        "modelward.artifacts", reason="modelward.artifacts (branch `artifacts`) is not merged yet"
    )
    (home / "file.txt").write_text("hello")
    (home / "dir" / "sub").mkdir(parents=True)
    (home / "dir" / "a.txt").write_text("a")
    (home / "dir" / "sub" / "b.txt").write_text("b")
    with mw.start_run(experiment="exp") as run:
        mw.log_artifact(home / "file.txt")
        mw.log_artifacts(home / "dir", "data")
    paths = sorted(e.path for e in mw.list_artifacts(run.id))
    assert paths == ["data/a.txt", "data/sub/b.txt", "file.txt"]
    target = mw.download_artifacts(run.id, "file.txt", home / "out")
    assert target.read_text() == "hello"
