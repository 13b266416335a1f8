"""The contract every :class:`~modelward.store.metadata.base.MetadataStore` passes.

Use it from a backend's tests by importing the test functions and providing a ``store``
fixture that yields a fresh, empty, migrated store::

    from modelward.testing.metadata_contract import *  # noqa: F403

    @pytest.fixture
    def store(tmp_path):
        s = MyStore(...)
        yield s
        s.close()

modelward runs it on SQLite always and on PostgreSQL when ``MODELWARD_TEST_POSTGRES_URL`` is set
(``tests/store/metadata/test_contract.py``). The suite covers experiments, runs, params, tags,
metrics (NaN and infinities included), soft deletion, liveness bookkeeping, environments, the
artifact index and the whole search language (the tests of
:mod:`modelward.testing.metadata_search_contract`, re-exported here), whose results must be
identical on every backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from modelward.entities import ArtifactEntry, LifecycleStage, RunStatus
from modelward.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
)
from modelward.store.metadata.base import MetadataStore
from modelward.store.metadata.tracking import MetricPoint
from modelward.testing import metadata_search_contract as _search_suite
from modelward.testing.metadata_search_contract import *  # noqa: F403 - re-exported suite
from modelward.testing.metadata_search_contract import _search

__all__ = sorted(
    [
        "test_artifact_entries_put_get_list_replace_delete",
        "test_artifact_prefix_is_literal_and_case_sensitive",
        "test_blob_referenced_follows_entries",
        "test_create_run_defaults",
        "test_create_run_records_every_given_field",
        "test_experiment_create_get_and_tags",
        "test_experiment_name_taken_raises_already_exists",
        "test_experiment_soft_delete_covers_its_runs",
        "test_get_unknown_environment_raises_not_found",
        "test_heartbeat_touches_running_runs_only",
        "test_invalid_keys_and_values_are_rejected",
        "test_latest_metric_is_highest_step_then_latest_timestamp",
        "test_list_experiments_oldest_first_without_deleted",
        "test_list_running_runs_reports_liveness_fields",
        "test_log_metrics_for_an_unknown_run_writes_nothing",
        "test_logging_to_a_deleted_run_is_a_conflict",
        "test_mark_runs_killed_changes_only_running_runs",
        "test_metric_history_is_ordered_by_step_then_timestamp",
        "test_metric_history_of_an_unknown_key_is_empty",
        "test_metrics_for_several_runs_in_one_batch",
        "test_nan_and_infinities_round_trip",
        "test_nested_run_needs_an_existing_parent",
        "test_param_conflict_in_a_batch_writes_nothing",
        "test_params_are_immutable",
        "test_params_hold_values_up_to_the_limit",
        "test_reopen_run_makes_it_running_under_a_new_owner",
        "test_run_environment_is_stored_once_per_digest",
        "test_run_status_terminal_sets_end_time",
        "test_soft_delete_and_restore_cover_nested_runs",
        "test_tags_overwrite_and_delete",
        "test_unknown_experiment_raises_not_found",
        "test_unknown_run_raises_not_found",
        *_search_suite.__all__,
    ]
)

NAN = float("nan")
INF = float("inf")


# -- helpers --------------------------------------------------------------------------------
def _points(run_id: str, key: str, values: Sequence[tuple[int, int, float]]) -> list[MetricPoint]:
    return [(run_id, key, value, step, ts) for step, ts, value in values]


def _same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# -- experiments ----------------------------------------------------------------------------
def test_experiment_create_get_and_tags(store: MetadataStore) -> None:
    """An experiment is found by id and by name, with its tags; tags can be overwritten."""
    exp = store.create_experiment("exp", tags={"owner": "ann"})
    assert exp.name == "exp"
    assert exp.lifecycle_stage is LifecycleStage.ACTIVE
    assert exp.created_at > 0
    assert store.get_experiment(exp.id) == exp
    assert store.get_experiment_by_name("exp") == exp
    store.set_experiment_tags(exp.id, {"owner": "bob", "goal": "speed"})
    assert dict(store.get_experiment(exp.id).tags) == {"owner": "bob", "goal": "speed"}


def test_experiment_name_taken_raises_already_exists(store: MetadataStore) -> None:
    """Experiment names are unique."""
    store.create_experiment("exp")
    with pytest.raises(AlreadyExists, match="experiment 'exp' already exists"):
        store.create_experiment("exp")


def test_unknown_experiment_raises_not_found(store: MetadataStore) -> None:
    """Every call naming a missing experiment raises NotFound naming it."""
    with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
        store.get_experiment("nope")
    with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
        store.get_experiment_by_name("nope")
    with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
        store.create_run("nope")
    with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
        store.delete_experiment("nope")
    with pytest.raises(NotFound, match="experiment 'nope' does not exist"):
        store.set_experiment_tags("nope", {"a": "b"})


def test_list_experiments_oldest_first_without_deleted(store: MetadataStore) -> None:
    """Listing is oldest first and hides deleted experiments unless asked."""
    made = [store.create_experiment(f"e{i}") for i in range(4)]
    store.delete_experiment(made[1].id)
    listed = store.list_experiments()
    assert {e.name for e in listed} == {"e0", "e2", "e3"}
    created = [e.created_at for e in listed]
    assert created == sorted(created)
    every = store.list_experiments(include_deleted=True)
    assert {e.name for e in every} == {"e0", "e1", "e2", "e3"}
    assert {e.name: e.lifecycle_stage for e in every}["e1"] is LifecycleStage.DELETED


def test_experiment_soft_delete_covers_its_runs(store: MetadataStore) -> None:
    """Deleting an experiment soft-deletes its runs and refuses new runs in it."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    store.delete_experiment(exp.id)
    assert store.get_experiment(exp.id).lifecycle_stage is LifecycleStage.DELETED
    assert store.get_run(run.id).lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(Conflict, match="is deleted"):
        store.create_run(exp.id)


# -- runs -----------------------------------------------------------------------------------
def test_create_run_defaults(store: MetadataStore) -> None:
    """A new run is RUNNING, active, named, started now, with a heartbeat and no end."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    assert run.status is RunStatus.RUNNING
    assert run.lifecycle_stage is LifecycleStage.ACTIVE
    assert len(run.id) == 32
    assert run.name
    assert run.end_time is None
    assert run.heartbeat_at == run.start_time > 0
    fetched = store.get_run(run.id)
    assert fetched == run
    assert dict(fetched.params) == {}
    assert dict(fetched.metrics) == {}


def test_create_run_records_every_given_field(store: MetadataStore) -> None:
    """Every argument of create_run is stored and read back."""
    exp = store.create_experiment("exp")
    parent = store.create_run(exp.id, name="parent")
    store.put_environment("e" * 64, {"python": "3.11"})
    run = store.create_run(
        exp.id,
        name="child",
        tags={"k": "v"},
        parent_id=parent.id,
        start_time=1234,
        user="ann",
        host="box",
        pid=42,
        pid_start=1700000000.25,
        environment_digest="e" * 64,
    )
    fetched = store.get_run(run.id)
    assert fetched == run
    assert (fetched.name, fetched.parent_id, fetched.start_time) == ("child", parent.id, 1234)
    assert (fetched.user, fetched.host, fetched.pid) == ("ann", "box", 42)
    assert fetched.environment_digest == "e" * 64
    assert dict(fetched.tags) == {"k": "v"}
    assert store.list_running_runs().count((run.id, "box", 42, 1700000000.25, 1234)) == 1


def test_unknown_run_raises_not_found(store: MetadataStore) -> None:
    """Every call naming a missing run raises NotFound naming it."""
    missing = "0" * 32
    calls: list[Callable[[], object]] = [
        lambda: store.get_run(missing),
        lambda: store.set_run_status(missing, RunStatus.FINISHED),
        lambda: store.log_params(missing, {"a": "1"}),
        lambda: store.set_tags(missing, {"a": "1"}),
        lambda: store.delete_tag(missing, "a"),
        lambda: store.get_metric_history(missing, "loss"),
        lambda: store.delete_run(missing),
        lambda: store.restore_run(missing),
        lambda: store.set_run_environment(missing, "d" * 64, {}),
    ]
    for call in calls:
        with pytest.raises(NotFound, match=f"run '{missing}'"):
            call()
    with pytest.raises(NotFound, match=f"unknown run '{missing}'"):
        store.log_metrics([(missing, "loss", 1.0, 0, 1)])


def test_run_status_terminal_sets_end_time(store: MetadataStore) -> None:
    """A terminal status records end_time; going back to RUNNING clears it."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id, start_time=1000)
    ended = store.set_run_status(run.id, RunStatus.FAILED, end_time=5000)
    assert (ended.status, ended.end_time) == (RunStatus.FAILED, 5000)
    assert store.get_run(run.id).end_time == 5000
    now_ended = store.set_run_status(run.id, RunStatus.FINISHED)
    assert now_ended.end_time is not None
    assert now_ended.end_time > 5000
    resumed = store.set_run_status(run.id, RunStatus.RUNNING)
    assert (resumed.status, resumed.end_time) == (RunStatus.RUNNING, None)


def test_nested_run_needs_an_existing_parent(store: MetadataStore) -> None:
    """A nested run records its parent; a missing parent is NotFound."""
    exp = store.create_experiment("exp")
    parent = store.create_run(exp.id)
    child = store.create_run(exp.id, parent_id=parent.id)
    assert store.get_run(child.id).parent_id == parent.id
    with pytest.raises(NotFound, match=r"run 'f+' does not exist"):
        store.create_run(exp.id, parent_id="f" * 32)


def test_invalid_keys_and_values_are_rejected(store: MetadataStore) -> None:
    """Keys must be clean strings; values over the limit belong in artifacts."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    bad_tags: dict[object, str] = {1: "x"}
    with pytest.raises(InvalidInput, match="tag key must be a string, not int"):
        store.set_tags(run.id, bad_tags)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="tag key must be a string, not int"):
        store.create_run(exp.id, tags=bad_tags)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="param key must not be empty"):
        store.log_params(run.id, {"": "x"})
    with pytest.raises(InvalidInput, match="leading or trailing whitespace"):
        store.log_params(run.id, {" lr": "x"})
    with pytest.raises(InvalidInput, match="control characters"):
        store.set_tags(run.id, {"a\nb": "x"})
    with pytest.raises(InvalidInput, match="the limit is 250"):
        store.log_params(run.id, {"k" * 251: "x"})
    with pytest.raises(InvalidInput, match=r"10,000,000 characters.*as an artifact"):
        store.log_params(run.id, {"big": "x" * 10_000_000})
    with pytest.raises(InvalidInput, match="experiment name must not be empty"):
        store.create_experiment("")
    assert dict(store.get_run(run.id).params) == {}


# -- params and tags ------------------------------------------------------------------------
def test_params_are_immutable(store: MetadataStore) -> None:
    """Re-logging a param with the same value is fine; another value is a Conflict."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    store.log_params(run.id, {"lr": "0.1", "depth": "3"})
    store.log_params(run.id, {"lr": "0.1"})
    with pytest.raises(Conflict, match=r"param 'lr' .* is already '0\.1'.*immutable.*'0\.2'"):
        store.log_params(run.id, {"lr": "0.2"})
    assert dict(store.get_run(run.id).params) == {"lr": "0.1", "depth": "3"}


def test_param_conflict_in_a_batch_writes_nothing(store: MetadataStore) -> None:
    """A batch with one clashing param is rejected whole."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    store.log_params(run.id, {"lr": "0.1"})
    with pytest.raises(Conflict, match="param 'lr'"):
        store.log_params(run.id, {"new": "1", "lr": "0.5"})
    assert dict(store.get_run(run.id).params) == {"lr": "0.1"}


def test_params_hold_values_up_to_the_limit(store: MetadataStore) -> None:
    """A 65,536-character param (unicode included) round-trips exactly."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    value = ("ü€" * 32_768)[:65_536]
    store.log_params(run.id, {"long": value, "empty": ""})
    assert dict(store.get_run(run.id).params) == {"long": value, "empty": ""}


def test_tags_overwrite_and_delete(store: MetadataStore) -> None:
    """Tags are mutable: set overwrites, delete removes, deleting a missing tag is NotFound."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id, tags={"a": "1"})
    store.set_tags(run.id, {"a": "2", "b": "3"})
    assert dict(store.get_run(run.id).tags) == {"a": "2", "b": "3"}
    store.delete_tag(run.id, "a")
    assert dict(store.get_run(run.id).tags) == {"b": "3"}
    with pytest.raises(NotFound, match="has no tag 'a'"):
        store.delete_tag(run.id, "a")
    # Without overwrite, keys the run has keep their value and new keys are added.
    store.set_tags(run.id, {"b": "changed", "c": "4"}, overwrite=False)
    assert dict(store.get_run(run.id).tags) == {"b": "3", "c": "4"}


def test_logging_to_a_deleted_run_is_a_conflict(store: MetadataStore) -> None:
    """Params and tags of a deleted run cannot change until it is restored."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    store.delete_run(run.id)
    with pytest.raises(Conflict, match="is deleted; restore it"):
        store.log_params(run.id, {"a": "1"})
    with pytest.raises(Conflict, match="is deleted; restore it"):
        store.set_tags(run.id, {"a": "1"})
    store.restore_run(run.id)
    store.set_tags(run.id, {"a": "1"})
    assert dict(store.get_run(run.id).tags) == {"a": "1"}


# -- metrics --------------------------------------------------------------------------------
def test_metric_history_is_ordered_by_step_then_timestamp(store: MetadataStore) -> None:
    """History holds every point, ordered by step then timestamp, whatever the logging order."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    store.log_metrics(_points(run.id, "loss", [(3, 30, 0.3), (1, 12, 0.12), (2, 20, 0.2)]))
    store.log_metrics(_points(run.id, "loss", [(1, 11, 0.11), (0, 99, 1.0)]))
    store.log_metrics(_points(run.id, "other", [(0, 1, 5.0)]))
    history = store.get_metric_history(run.id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (0, 99, 1.0),
        (1, 11, 0.11),
        (1, 12, 0.12),
        (2, 20, 0.2),
        (3, 30, 0.3),
    ]
    assert {m.key for m in history} == {"loss"}


def test_metric_history_of_an_unknown_key_is_empty(store: MetadataStore) -> None:
    """A run without the metric has an empty history, not an error."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    assert store.get_metric_history(run.id, "never") == []


def test_nan_and_infinities_round_trip(store: MetadataStore) -> None:
    """NaN, ±inf and extreme floats are stored faithfully in history and latest values."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    values = [NAN, INF, -INF, 1e308, -0.0, 5e-324, 0.1 + 0.2]
    store.log_metrics(_points(run.id, "v", [(i, i, v) for i, v in enumerate(values)]))
    history = store.get_metric_history(run.id, "v")
    assert len(history) == len(values)
    for point, expected in zip(history, values, strict=True):
        assert _same_float(point.value, expected), (point, expected)
    store.log_metrics(
        [
            (run.id, "nan", NAN, 0, 1),
            (run.id, "inf", INF, 0, 1),
            (run.id, "-inf", -INF, 0, 1),
        ]
    )
    latest = store.get_run(run.id).metrics
    assert math.isnan(latest["nan"])
    assert latest["inf"] == INF
    assert latest["-inf"] == -INF
    assert latest["v"] == 0.1 + 0.2


def test_latest_metric_is_highest_step_then_latest_timestamp(store: MetadataStore) -> None:
    """The latest value is the point with the highest step, then the latest timestamp."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)

    def log_then_latest(step: int, ts: int, value: float) -> float:
        store.log_metrics([(run.id, "m", value, step, ts)])
        return store.get_run(run.id).metrics["m"]

    assert log_then_latest(5, 100, 1.0) == 1.0
    assert log_then_latest(3, 200, 2.0) == 1.0  # lower step, even if later
    assert log_then_latest(5, 50, 3.0) == 1.0  # same step, earlier
    assert log_then_latest(5, 300, 4.0) == 4.0  # same step, later
    assert log_then_latest(6, 10, 5.0) == 5.0  # higher step, even if earlier
    assert math.isnan(log_then_latest(7, 10, NAN))  # a NaN can be the latest value
    # Within one batch the same rule applies.
    store.log_metrics(_points(run.id, "b", [(2, 10, 1.0), (9, 5, 2.0), (9, 7, 3.0), (1, 99, 4.0)]))
    assert store.get_run(run.id).metrics["b"] == 3.0


def test_metrics_for_several_runs_in_one_batch(store: MetadataStore) -> None:
    """One log_metrics call may carry many runs and keys; every point is kept."""
    exp = store.create_experiment("exp")
    a, b = store.create_run(exp.id), store.create_run(exp.id)
    points = [(r.id, f"k{i % 3}", float(i), i, i) for i in range(3000) for r in (a, b)]
    store.log_metrics(points)
    for run in (a, b):
        history = store.get_metric_history(run.id, "k1")
        assert [m.step for m in history] == list(range(1, 3000, 3))
        assert dict(store.get_run(run.id).metrics) == {"k0": 2997.0, "k1": 2998.0, "k2": 2999.0}


def test_log_metrics_for_an_unknown_run_writes_nothing(store: MetadataStore) -> None:
    """A batch naming an unknown run is refused whole, naming the run in details."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    missing = "a" * 32
    with pytest.raises(NotFound, match=f"unknown run '{missing}'") as info:
        store.log_metrics([(run.id, "m", 1.0, 0, 1), (missing, "m", 1.0, 0, 1)])
    assert info.value.details["run_ids"] == [missing]
    assert store.get_metric_history(run.id, "m") == []


# -- deletion and liveness ------------------------------------------------------------------
def test_soft_delete_and_restore_cover_nested_runs(store: MetadataStore) -> None:
    """Deleting a run deletes its descendants; restoring brings them all back."""
    exp = store.create_experiment("exp")
    parent = store.create_run(exp.id, name="parent")
    child = store.create_run(exp.id, name="child", parent_id=parent.id)
    grandchild = store.create_run(exp.id, name="grandchild", parent_id=child.id)
    sibling = store.create_run(exp.id, name="sibling")
    store.delete_run(parent.id)
    stages = {r: store.get_run(r).lifecycle_stage for r in (parent.id, child.id, grandchild.id)}
    assert set(stages.values()) == {LifecycleStage.DELETED}
    assert store.get_run(sibling.id).lifecycle_stage is LifecycleStage.ACTIVE
    assert _search(store, [exp.id]) == ["sibling"]
    store.restore_run(parent.id)
    assert sorted(_search(store, [exp.id])) == ["child", "grandchild", "parent", "sibling"]
    store.delete_run(child.id)
    assert sorted(_search(store, [exp.id])) == ["parent", "sibling"]


def test_heartbeat_touches_running_runs_only(store: MetadataStore) -> None:
    """A heartbeat moves heartbeat_at of RUNNING runs and leaves ended runs alone."""
    exp = store.create_experiment("exp")
    running = store.create_run(exp.id, start_time=1000)
    ended = store.create_run(exp.id, start_time=1000)
    store.set_run_status(ended.id, RunStatus.FINISHED, end_time=2000)
    store.heartbeat([running.id, ended.id], 5000)
    assert store.get_run(running.id).heartbeat_at == 5000
    assert store.get_run(ended.id).heartbeat_at == 1000
    store.heartbeat([], 6000)  # nothing to do, no error


def test_list_running_runs_reports_liveness_fields(store: MetadataStore) -> None:
    """list_running_runs names every RUNNING run with host, pid, pid start and heartbeat."""
    exp = store.create_experiment("exp")
    a = store.create_run(exp.id, host="h1", pid=10, pid_start=1.5, start_time=100)
    b = store.create_run(exp.id, start_time=200)
    done = store.create_run(exp.id)
    store.set_run_status(done.id, RunStatus.KILLED)
    assert sorted(store.list_running_runs()) == sorted(
        [(a.id, "h1", 10, 1.5, 100), (b.id, None, None, None, 200)]
    )


def test_mark_runs_killed_changes_only_running_runs(store: MetadataStore) -> None:
    """mark_runs_killed ends RUNNING runs as KILLED and counts them; others stay."""
    exp = store.create_experiment("exp")
    running = store.create_run(exp.id)
    finished = store.create_run(exp.id)
    store.set_run_status(finished.id, RunStatus.FINISHED, end_time=3000)
    assert store.mark_runs_killed([running.id, finished.id, "0" * 32], 9000) == 1
    killed = store.get_run(running.id)
    assert (killed.status, killed.end_time) == (RunStatus.KILLED, 9000)
    assert store.get_run(finished.id).status is RunStatus.FINISHED
    assert store.get_run(finished.id).end_time == 3000
    assert store.mark_runs_killed([running.id], 9999) == 0
    assert store.mark_runs_killed([], 1) == 0


def test_reopen_run_makes_it_running_under_a_new_owner(store: MetadataStore) -> None:
    """reopen_run makes an ended run RUNNING again, owned by the given process."""
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id, host="old-host", pid=11, pid_start=1.0)
    store.end_run(run.id, RunStatus.KILLED, 5000)
    reopened = store.reopen_run(run.id, host="new-host", pid=22, pid_start=2.0, at=9000)
    assert reopened.status is RunStatus.RUNNING
    assert reopened.end_time is None
    assert (reopened.host, reopened.pid, reopened.heartbeat_at) == ("new-host", 22, 9000)
    assert (run.id, "new-host", 22, 2.0, 9000) in store.list_running_runs()
    store.end_run(run.id, RunStatus.FINISHED, 10_000)
    assert store.get_run(run.id).status is RunStatus.FINISHED
    with pytest.raises(NotFound):
        store.reopen_run("0" * 32, host=None, pid=None, pid_start=None, at=1)


# -- environments ---------------------------------------------------------------------------
def test_run_environment_is_stored_once_per_digest(store: MetadataStore) -> None:
    """An environment is stored once per digest and linked to each run that used it."""
    exp = store.create_experiment("exp")
    a, b = store.create_run(exp.id), store.create_run(exp.id)
    data = {"python": {"version": "3.11.9"}, "packages": {"numpy": "2.0"}, "gpus": [], "n": "ü"}
    digest = "d" * 64
    store.set_run_environment(a.id, digest, data)
    store.set_run_environment(b.id, digest, {"ignored": True})
    store.put_environment(digest, {"ignored": True})
    assert store.get_run(a.id).environment_digest == digest
    assert store.get_run(b.id).environment_digest == digest
    assert store.get_environment(digest) == data


def test_get_unknown_environment_raises_not_found(store: MetadataStore) -> None:
    """Asking for an environment nobody stored is NotFound."""
    with pytest.raises(NotFound, match="no environment with digest"):
        store.get_environment("0" * 64)


# -- artifact index -------------------------------------------------------------------------
def _entry(scope: str, path: str, digest: str = "a" * 64, size: int = 1) -> ArtifactEntry:
    return ArtifactEntry(scope, path, digest, size, 1000)


def test_artifact_entries_put_get_list_replace_delete(store: MetadataStore) -> None:
    """Entries are listed sorted by path per scope, replaced by path, deleted by prefix."""
    paths = ["model/model.skops", "model/conda.yaml", "metrics.json", "a/b/c.txt"]
    store.put_artifact_entries([_entry("runs/1", p) for p in paths])
    store.put_artifact_entries([_entry("runs/2", "model/model.skops")])
    assert [e.path for e in store.list_artifact_entries("runs/1")] == sorted(paths)
    assert store.get_artifact_entry("runs/1", "metrics.json") == _entry("runs/1", "metrics.json")
    store.put_artifact_entries([_entry("runs/1", "metrics.json", "b" * 64, 7)])
    replaced = store.get_artifact_entry("runs/1", "metrics.json")
    assert (replaced.digest, replaced.size) == ("b" * 64, 7)
    with pytest.raises(NotFound, match="no artifact 'missing' in runs/1"):
        store.get_artifact_entry("runs/1", "missing")
    assert store.delete_artifact_entries("runs/1", "model/") == 2
    assert [e.path for e in store.list_artifact_entries("runs/1")] == ["a/b/c.txt", "metrics.json"]
    assert store.delete_artifact_entries("runs/1") == 2
    assert store.list_artifact_entries("runs/1") == []
    assert [e.path for e in store.list_artifact_entries("runs/2")] == ["model/model.skops"]
    store.put_artifact_entries([])


def test_artifact_prefix_is_literal_and_case_sensitive(store: MetadataStore) -> None:
    """A prefix matches literally: no wildcards, and case matters on every backend."""
    paths = ["Model/x", "model/y", "100%_x/a", "100ab/b", "m_del/z"]
    store.put_artifact_entries([_entry("s", p) for p in paths])

    def listed(prefix: str) -> list[str]:
        return [e.path for e in store.list_artifact_entries("s", prefix)]

    assert listed("model/") == ["model/y"]
    assert listed("Model/") == ["Model/x"]
    assert listed("100%") == ["100%_x/a"]
    assert listed("100%_") == ["100%_x/a"]
    assert listed("m_d") == ["m_del/z"]
    assert listed("mod") == ["model/y"]


def test_blob_referenced_follows_entries(store: MetadataStore) -> None:
    """A blob is referenced while any entry in any scope names it."""
    store.put_artifact_entries([_entry("a", "x", "c" * 64), _entry("b", "y", "c" * 64)])
    assert store.blob_referenced("c" * 64)
    assert not store.blob_referenced("d" * 64)
    store.delete_artifact_entries("a")
    assert store.blob_referenced("c" * 64)
    store.delete_artifact_entries("b")
    assert not store.blob_referenced("c" * 64)
