"""The tracking service end to end on SQLite: run life, logging, validation, liveness."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from modelward.client import Client
from modelward.entities import RunStatus, now_ms
from modelward.errors import Conflict, FilterSyntaxError, InvalidInput, NotFound
from modelward.tracking.service import DEFAULT_EXPERIMENT
from tests.tracking._util import wait_until


def test_start_run_resolves_experiments_by_name_or_id(client: Client) -> None:
    tracking = client.tracking
    default = tracking.start_run()
    assert tracking.get_experiment(DEFAULT_EXPERIMENT).id == default.experiment_id
    named = tracking.start_run("exp", name="r1", tags={"k": "v"})
    exp = tracking.get_experiment("exp")
    assert named.experiment_id == exp.id
    by_id = tracking.start_run(exp.id)
    assert by_id.experiment_id == exp.id
    assert len(tracking.list_experiments()) == 2
    run = tracking.get_run(named.id)
    assert (run.name, run.status, run.user) == ("r1", RunStatus.RUNNING, run.tags["mw.user"])
    assert run.tags["k"] == "v"
    assert run.pid is not None
    assert run.host


def test_end_run_sets_terminal_status_and_flushes(client: Client) -> None:
    tracking = client.tracking
    run = tracking.start_run("exp")
    tracking.log_metric(run.id, "loss", 0.5, step=3)
    assert tracking.end_run(run.id, "FAILED") is RunStatus.FAILED
    ended = tracking.get_run(run.id)
    assert ended.status is RunStatus.FAILED
    assert ended.end_time is not None
    assert ended.metrics == {"loss": 0.5}
    with pytest.raises(InvalidInput, match="unknown run status 'DONE'; use FINISHED"):
        tracking.end_run(run.id, "DONE")
    with pytest.raises(InvalidInput, match="end_run needs a terminal status"):
        tracking.end_run(run.id, RunStatus.RUNNING)


def test_steps_count_per_key_when_omitted(client: Client) -> None:
    tracking = client.tracking
    run = tracking.start_run("exp")
    for value in (1.0, 2.0, 3.0):
        tracking.log_metric(run.id, "a", value)
    tracking.log_metric(run.id, "b", 9.0)
    tracking.log_metric(run.id, "a", 4.0, step=10)
    tracking.log_metric(run.id, "a", 5.0)
    tracking.log_metrics(run.id, {"a": 6.0, "b": 7.0})
    a = tracking.get_metric_history(run.id, "a")
    b = tracking.get_metric_history(run.id, "b")
    assert [(m.step, m.value) for m in a] == [(0, 1), (1, 2), (2, 3), (10, 4), (11, 5), (12, 6)]
    assert [(m.step, m.value) for m in b] == [(0, 9.0), (1, 7.0)]
    assert a[-1].timestamp == b[-1].timestamp  # log_metrics shares one timestamp


def test_numpy_values_and_steps_are_accepted(client: Client) -> None:
    tracking = client.tracking
    run = tracking.start_run("exp")
    tracking.log_metric(run.id, "x", np.float32(0.5), step=np.int64(4))  # type: ignore[arg-type]
    tracking.log_metric(run.id, "y", np.int64(3))  # type: ignore[arg-type]
    tracking.log_metric(run.id, "z", float("nan"))
    assert [(m.step, m.value) for m in tracking.get_metric_history(run.id, "x")] == [(4, 0.5)]
    metrics = tracking.get_run(run.id).metrics
    assert metrics["y"] == 3.0
    assert math.isnan(metrics["z"])


@pytest.mark.parametrize(
    ("value", "step", "why"),
    [
        ("high", None, "metric 'm' needs a number, not str \\('high'\\); log text as a tag"),
        (None, None, "metric 'm' needs a number, not NoneType"),
        (True, None, "metric 'm' needs a number, not bool"),
        (b"1", None, "metric 'm' needs a number, not bytes"),
        ([1.0], None, "metric 'm' needs a number, not list"),
        (1.0, 1.5, "step of metric 'm' must be an integer, not float \\(1.5\\)"),
        (1.0, "3", "step of metric 'm' must be an integer, not str"),
    ],
)
def test_bad_metric_values_are_refused_at_once(
    client: Client, value: object, step: object, why: str
) -> None:
    run = client.tracking.start_run("exp")
    with pytest.raises(InvalidInput, match=why):
        client.tracking.log_metric(run.id, "m", value, step)  # type: ignore[arg-type]
    client.tracking.flush()
    assert client.tracking.get_metric_history(run.id, "m") == []


def test_bad_keys_tags_and_params_are_refused(client: Client) -> None:
    tracking = client.tracking
    run = tracking.start_run("exp")
    with pytest.raises(InvalidInput, match="metric key must be a string, not int"):
        tracking.log_metric(run.id, 5, 1.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="tag key must be a string, not int \\(1\\)"):
        tracking.set_tags(run.id, {1: "x"})  # type: ignore[dict-item]
    with pytest.raises(InvalidInput, match="param 'big' is 10,485,760 characters"):
        tracking.log_params(run.id, {"big": "x" * 10 * 2**20})
    with pytest.raises(InvalidInput, match="tag key must be a string"):
        tracking.start_run("exp", tags={None: "x"})  # type: ignore[dict-item]
    tracking.log_params(run.id, {"lr": 0.1, "layers": [3, 4]})
    assert dict(tracking.get_run(run.id).params) == {"lr": "0.1", "layers": "[3, 4]"}
    with pytest.raises(Conflict, match=r"param 'lr' .* is already '0\.1'"):
        tracking.log_params(run.id, {"lr": 0.2})


def test_get_run_reads_points_still_in_the_buffer(client: Client) -> None:
    tracking = client.tracking
    run = tracking.start_run("exp")
    tracking.end_run(run.id)
    # Points for a run this process no longer tracks are still read back at once.
    tracking.log_metric(run.id, "late", 1.0, step=0)
    assert tracking.get_run(run.id).metrics == {"late": 1.0}


def test_unknown_things_raise_not_found(client: Client) -> None:
    tracking = client.tracking
    with pytest.raises(NotFound, match=r"run '0+' does not exist"):
        tracking.get_run("0" * 32)
    with pytest.raises(NotFound, match="experiment 'nope' does not exist; list them with"):
        tracking.get_experiment("nope")
    with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
        tracking.search_runs("nope")
    with pytest.raises(FilterSyntaxError, match="column 9"):
        tracking.search_runs(filter="metrics.")


def test_search_runs_takes_names_and_flushes(client: Client) -> None:
    tracking = client.tracking
    a = tracking.start_run("a", name="ra")
    b = tracking.start_run("b", name="rb")
    tracking.log_metric(a.id, "acc", 0.9)
    tracking.log_metric(b.id, "acc", 0.7)
    page = tracking.search_runs(["a", "b"], "metrics.acc > 0.8")
    assert [r.name for r in page.items] == ["ra"]
    assert [r.name for r in tracking.search_runs(order_by="metrics.acc").items] == ["rb", "ra"]


def test_heartbeats_keep_a_run_alive(make_client: Callable[..., Client]) -> None:
    client = make_client(heartbeat_interval=0.02, metric_flush_interval=0.02)
    run = client.tracking.start_run("exp")  # a run that never logs a metric
    wait_until(lambda: (client.store.get_run(run.id).heartbeat_at or 0) > run.start_time)


def test_runs_of_dead_processes_are_marked_killed_when_read(client: Client) -> None:
    store, tracking = client.store, client.tracking
    exp = tracking.get_or_create_experiment("exp")
    here = tracking.start_run("exp")
    # A pid that cannot be alive (above any pid_max) on this host.
    dead_local = store.create_run(exp.id, host=here.host, pid=2**22 + 7, pid_start=1.0)
    stale = store.create_run(exp.id, host="elsewhere", pid=1, start_time=now_ms() - 10**7)
    fresh = store.create_run(exp.id, host="elsewhere", pid=1)
    assert tracking.get_run(dead_local.id).status is RunStatus.KILLED
    assert tracking.get_run(dead_local.id).end_time is not None
    statuses = {r.id: r.status for r in tracking.search_runs("exp").items}
    assert statuses[stale.id] is RunStatus.KILLED
    assert statuses[fresh.id] is RunStatus.RUNNING
    assert statuses[here.id] is RunStatus.RUNNING


def test_system_metrics_are_sampled_for_runs_that_want_them(
    make_client: Callable[..., Client],
) -> None:
    client = make_client(
        system_metrics=True, system_metrics_interval=0.02, metric_flush_interval=0.02
    )
    sampled = client.tracking.start_run("exp")
    quiet = client.tracking.start_run("exp", system_metrics=False)
    client.tracking.log_metric(quiet.id, "m", 1.0)

    def sampled_twice() -> bool:
        client.tracking.flush()
        return len(client.store.get_metric_history(sampled.id, "system/cpu_percent")) >= 2

    wait_until(sampled_twice)
    metrics = client.tracking.get_run(sampled.id).metrics
    expected = {
        "system/cpu_percent",
        "system/memory_percent",
        "system/memory_used_mb",
        "system/process_cpu_percent",
        "system/process_rss_mb",
        "system/disk_used_percent",
        "system/disk_free_gb",
    }
    assert expected <= set(metrics)
    assert all(math.isfinite(metrics[k]) and metrics[k] >= 0 for k in expected)
    assert 0 <= metrics["system/memory_percent"] <= 100
    steps = [m.step for m in client.store.get_metric_history(sampled.id, "system/cpu_percent")]
    assert steps == list(range(len(steps)))
    assert set(client.tracking.get_run(quiet.id).metrics) == {"m"}


def test_environment_is_recorded_once_and_linked_to_every_run(
    make_client: Callable[..., Client],
) -> None:
    import os
    import platform

    client = make_client(capture_environment=True)
    first = client.tracking.start_run("exp")
    client.tracking.end_run(first.id)
    second = client.tracking.start_run("exp")
    client.tracking.end_run(second.id)
    a, b = client.store.get_run(first.id), client.store.get_run(second.id)
    assert a.environment_digest is not None
    assert a.environment_digest == b.environment_digest
    env = client.store.get_environment(a.environment_digest)
    assert env["python"]["version"] == platform.python_version()
    assert env["os"]["system"] == platform.system()
    assert env["cpu"]["logical"] == os.cpu_count()
    assert env["memory_mb"] > 0
    assert isinstance(env["gpus"], list)
    assert env["packages"]["sqlalchemy"]
    assert env["packages"]["psutil"]
    for run in (a, b):
        assert "mw.source.entry_point" in run.tags


def test_close_flushes_pending_points(make_client: Callable[..., Client]) -> None:
    client = make_client(metric_flush_interval=60.0)
    run = client.tracking.start_run("exp")
    for i in range(100):
        client.tracking.log_metric(run.id, "m", float(i))
    client.close()
    reader = make_client()
    assert len(reader.store.get_metric_history(run.id, "m")) == 100


def test_a_run_started_while_the_environment_is_captured_gets_it_too(
    make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(capture_environment=True)
    store = client.store
    create_run = store.create_run
    first: list[str] = []

    def create_then_let_capture_finish(*args: object, **kwargs: object) -> object:
        run = create_run(*args, **kwargs)  # type: ignore[arg-type]
        if first:
            # The capture finishes after start_run looked for it but before it queued this run.
            wait_until(lambda: store.get_run(first[0]).environment_digest is not None)
        else:
            first.append(run.id)
        return run

    monkeypatch.setattr(store, "create_run", create_then_let_capture_finish)
    a = client.tracking.start_run("exp")
    b = client.tracking.start_run("exp")
    client.tracking.end_run(a.id)
    client.tracking.end_run(b.id)
    digest = store.get_run(a.id).environment_digest
    assert digest is not None
    assert store.get_run(b.id).environment_digest == digest
    assert "mw.source.entry_point" in store.get_run(b.id).tags


def test_tags_set_while_the_environment_is_captured_are_kept(
    make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The git tags recorded when capture finishes never replace a tag the user set first."""
    import threading

    from modelward.tracking import environment

    release = threading.Event()
    capture = environment.capture_environment

    def slow_capture() -> environment.Environment:
        release.wait(10)
        return capture()

    monkeypatch.setattr(environment, "capture_environment", slow_capture)
    monkeypatch.setattr(
        environment,
        "source_tags",
        lambda: {"mw.source.git_commit": "from-git", "mw.source.git_dirty": "false"},
    )
    client = make_client(capture_environment=True)
    run = client.tracking.start_run("exp")
    client.tracking.set_tags(run.id, {"mw.source.git_commit": "set-by-user"})
    release.set()
    client.tracking.end_run(run.id)  # waits for the capture to link the run
    tags = client.store.get_run(run.id).tags
    assert tags["mw.source.git_commit"] == "set-by-user"
    assert tags["mw.source.git_dirty"] == "false"
    assert client.store.get_run(run.id).environment_digest is not None
