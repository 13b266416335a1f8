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
artifact index and the whole search language, whose results must be identical on every backend.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Mapping, Sequence

import pytest

from modelward.entities import ArtifactEntry, LifecycleStage, Run, RunStatus
from modelward.errors import (
    AlreadyExists,
    Conflict,
    FilterSyntaxError,
    InvalidInput,
    NotFound,
)
from modelward.store.metadata.base import MetadataStore
from modelward.store.metadata.tracking import MetricPoint

__all__ = [
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
    "test_run_environment_is_stored_once_per_digest",
    "test_run_status_terminal_sets_end_time",
    "test_search_across_experiments",
    "test_search_and_or_parentheses",
    "test_search_attribute_filters",
    "test_search_bad_page_tokens",
    "test_search_default_order_is_newest_first",
    "test_search_excludes_deleted_runs_unless_asked",
    "test_search_filter_errors",
    "test_search_like_escapes_are_literal",
    "test_search_like_is_case_sensitive_ilike_is_not",
    "test_search_max_results_bounds",
    "test_search_metric_operators",
    "test_search_order_by_attributes_params_and_several_keys",
    "test_search_order_by_metric_puts_missing_last",
    "test_search_paging_visits_every_run_once",
    "test_search_param_and_tag_operators",
    "test_search_parent_id_and_user",
    "test_search_quoted_keys",
    "test_search_values_are_bound_not_pasted",
    "test_soft_delete_and_restore_cover_nested_runs",
    "test_tags_overwrite_and_delete",
    "test_unknown_experiment_raises_not_found",
    "test_unknown_run_raises_not_found",
]

NAN = float("nan")
INF = float("inf")


# -- helpers --------------------------------------------------------------------------------
def _names(runs: Sequence[Run]) -> list[str]:
    return [r.name for r in runs]


def _search(
    store: MetadataStore,
    experiment_ids: Sequence[str],
    filter_string: str = "",
    order_by: Sequence[str] = (),
) -> list[str]:
    page = store.search_runs(experiment_ids, filter_string, order_by, max_results=1000)
    assert page.next_token is None
    return _names(page.items)


def _points(run_id: str, key: str, values: Sequence[tuple[int, int, float]]) -> list[MetricPoint]:
    return [MetricPoint(run_id, key, value, step, ts) for step, ts, value in values]


def _same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _runs(
    store: MetadataStore,
    experiment_id: str,
    specs: Sequence[
        tuple[str, int, RunStatus, Mapping[str, float], Mapping[str, str], Mapping[str, str]]
    ],
) -> dict[str, str]:
    ids: dict[str, str] = {}
    for name, start, status, metrics, params, tags in specs:
        run = store.create_run(experiment_id, name=name, start_time=start, tags=tags)
        ids[name] = run.id
        if params:
            store.log_params(run.id, params)
        if metrics:
            store.log_metrics([MetricPoint(run.id, k, v, 0, start) for k, v in metrics.items()])
        if status is not RunStatus.RUNNING:
            store.set_run_status(run.id, status, end_time=start + 500)
    return ids


def _searchable(store: MetadataStore) -> tuple[str, dict[str, str]]:
    """Five runs covering every kind of value the search language meets."""
    exp = store.create_experiment("search")
    ids = _runs(
        store,
        exp.id,
        [
            (
                "alpha",
                1000,
                RunStatus.FINISHED,
                {"acc": 0.9, "loss": 0.1, "train/loss": 0.2},
                {"depth": "3", "opt": "adam"},
                {"team": "Vision", "my key": "a"},
            ),
            (
                "beta",
                2000,
                RunStatus.FINISHED,
                {"acc": 0.8, "loss": 0.3},
                {"depth": "5", "opt": "sgd"},
                {"team": "vision"},
            ),
            (
                "gamma",
                3000,
                RunStatus.FAILED,
                {"acc": 0.5},
                {"depth": "10", "opt": "Adam"},
                {"team": "nlp"},
            ),
            ("delta", 4000, RunStatus.RUNNING, {"acc": NAN, "loss": INF}, {"depth": "3"}, {}),
            ("epsilon", 5000, RunStatus.KILLED, {}, {}, {"team": "100%_sure"}),
        ],
    )
    return exp.id, ids


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
        store.log_metrics([MetricPoint(missing, "loss", 1.0, 0, 1)])


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
            MetricPoint(run.id, "nan", NAN, 0, 1),
            MetricPoint(run.id, "inf", INF, 0, 1),
            MetricPoint(run.id, "-inf", -INF, 0, 1),
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
        store.log_metrics([MetricPoint(run.id, "m", value, step, ts)])
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
    points = [MetricPoint(r.id, f"k{i % 3}", float(i), i, i) for i in range(3000) for r in (a, b)]
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
        store.log_metrics(
            [MetricPoint(run.id, "m", 1.0, 0, 1), MetricPoint(missing, "m", 1.0, 0, 1)]
        )
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


# -- search ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc = 0.9", {"alpha"}),
        ("metrics.acc == 0.9", {"alpha"}),
        ("metrics.acc != 0.9", {"beta", "gamma"}),
        ("metrics.acc <> 0.9", {"beta", "gamma"}),
        ("metrics.acc < 0.8", {"gamma"}),
        ("metrics.acc <= 0.8", {"beta", "gamma"}),
        ("metrics.acc > 0.8", {"alpha"}),
        ("metrics.acc >= 0.8", {"alpha", "beta"}),
        ("metrics.acc IN (0.5, 0.9)", {"alpha", "gamma"}),
        ("metrics.acc NOT IN (0.5, 0.9)", {"beta"}),
        ("metrics.loss > 1e300", {"delta"}),
        ("metrics.loss < -1", set()),
        ("metrics.acc > -1", {"alpha", "beta", "gamma"}),
        ("metric.acc >= .8", {"alpha", "beta"}),
        ("metrics.missing > 0", set()),
    ],
)
def test_search_metric_operators(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """Metric comparisons are numeric; NaN and missing metrics never match a comparison."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("params.depth = '3'", {"alpha", "delta"}),
        ('params.depth = "3"', {"alpha", "delta"}),
        ("params.depth != '3'", {"beta", "gamma"}),
        ("params.depth < '5'", {"alpha", "gamma", "delta"}),
        ("params.depth <= '3'", {"alpha", "gamma", "delta"}),
        ("params.depth > '3'", {"beta"}),
        ("params.depth >= '3'", {"alpha", "beta", "delta"}),
        ("params.depth IN ('3', '5')", {"alpha", "beta", "delta"}),
        ("params.depth NOT IN ('3')", {"beta", "gamma"}),
        ("params.opt LIKE 'a%'", {"alpha"}),
        ("params.opt NOT LIKE 'a%'", {"beta", "gamma"}),
        ("params.opt ILIKE 'A%'", {"alpha", "gamma"}),
        ("params.opt NOT ILIKE 'a%'", {"beta"}),
        ("tags.team = 'vision'", {"beta"}),
        ("tags.team != 'vision'", {"alpha", "gamma", "epsilon"}),
        ("tags.team IN ('nlp', 'Vision')", {"alpha", "gamma"}),
        ("tags.team LIKE '%ision'", {"alpha", "beta"}),
        ("tags.team like '_lp'", {"gamma"}),
        ("tag.team = 'nlp'", {"gamma"}),
        ("parameters.opt = 'sgd'", {"beta"}),
    ],
)
def test_search_param_and_tag_operators(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """Param and tag comparisons are on strings; runs without the key never match."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("tags.team LIKE 'vision'", {"beta"}),
        ("tags.team LIKE 'VISION'", set()),
        ("tags.team ILIKE 'VISION'", {"alpha", "beta"}),
        ("tags.team NOT LIKE 'vision'", {"alpha", "gamma", "epsilon"}),
        ("tags.team NOT ILIKE 'vision'", {"gamma", "epsilon"}),
        ("params.opt LIKE 'Adam'", {"gamma"}),
        ("name LIKE 'ALPHA'", set()),
        ("name ILIKE 'ALPHA'", {"alpha"}),
    ],
)
def test_search_like_is_case_sensitive_ilike_is_not(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """LIKE matches case exactly and ILIKE ignores case, the same on every backend."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("tags.team LIKE '100%'", {"epsilon"}),
        ("tags.team LIKE '100\\%\\_sure'", {"epsilon"}),
        ("tags.team LIKE '100\\_%'", set()),
        ("tags.team LIKE '10\\%'", set()),
        ("tags.team LIKE '_00%'", {"epsilon"}),
    ],
)
def test_search_like_escapes_are_literal(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """In LIKE patterns a backslash makes ``%`` and ``_`` literal, on every backend."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc > 0.6 and params.depth = '3'", {"alpha"}),
        ("metrics.acc > 0.6 AND params.opt IN ('adam', 'sgd')", {"alpha", "beta"}),
        ("metrics.acc > 0.85 or tags.team = 'nlp'", {"alpha", "gamma"}),
        (
            "(metrics.acc > 0.85 OR tags.team = 'nlp') and params.opt ILIKE 'adam'",
            {"alpha", "gamma"},
        ),
        ("metrics.acc > 0.85 or tags.team = 'nlp' and params.opt = 'sgd'", {"alpha"}),
        ("(metrics.acc > 0.85 or tags.team = 'nlp') and params.opt = 'sgd'", set()),
        ("params.depth = '3' and params.depth = '5'", set()),
        (
            "params.depth = '3' or params.depth = '5' or params.depth = '10'",
            {"alpha", "beta", "gamma", "delta"},
        ),
        ("((status = 'KILLED'))", {"epsilon"}),
        (
            "metrics.acc >= 0.5 and "
            "(params.depth = '10' or (tags.team = 'vision' and metrics.loss < 1))",
            {"beta", "gamma"},
        ),
        (
            "status = 'RUNNING' or metrics.acc < 0.6 or tags.team LIKE '1%'",
            {"gamma", "delta", "epsilon"},
        ),
    ],
)
def test_search_and_or_parentheses(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """AND binds tighter than OR; parentheses group; keywords ignore case."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


def test_search_quoted_keys(store: MetadataStore) -> None:
    """Keys with spaces or odd characters are quoted with backticks or double quotes."""
    exp_id, _ = _searchable(store)
    assert _search(store, [exp_id], "tags.`my key` = 'a'") == ["alpha"]
    assert _search(store, [exp_id], "tags.\"my key\" = 'a'") == ["alpha"]
    assert _search(store, [exp_id], "metrics.train/loss < 1") == ["alpha"]
    assert _search(store, [exp_id], "metrics.`train/loss` < 1") == ["alpha"]
    assert _search(store, [exp_id], "tags.`my key` = 'a'", ["tags.`my key` DESC"]) == ["alpha"]


def test_search_attribute_filters(store: MetadataStore) -> None:
    """Run attributes: status (its values ignore case), name, ids and times."""
    exp_id, ids = _searchable(store)

    def found(filter_string: str) -> set[str]:
        return set(_search(store, [exp_id], filter_string))

    assert found("status = 'FAILED'") == {"gamma"}
    assert found("attributes.status = 'finished'") == {"alpha", "beta"}
    assert found("status IN ('RUNNING', 'killed')") == {"delta", "epsilon"}
    assert found("status != 'FINISHED'") == {"gamma", "delta", "epsilon"}
    assert found("status LIKE 'fin%'") == {"alpha", "beta"}
    assert found("name = 'beta'") == {"beta"}
    assert found("run_name LIKE '%lta'") == {"delta"}
    assert found("start_time >= 3000") == {"gamma", "delta", "epsilon"}
    assert found("attributes.start_time < 2000") == {"alpha"}
    assert found("end_time <= 2500") == {"alpha", "beta"}
    assert found(f"run_id = '{ids['gamma']}'") == {"gamma"}
    assert found(f"id IN ('{ids['alpha']}', '{ids['beta']}')") == {"alpha", "beta"}
    assert found(f"experiment_id = '{exp_id}'") == set(ids)
    assert found("experiment_id = 'other'") == set()


def test_search_parent_id_and_user(store: MetadataStore) -> None:
    """parent_id finds nested runs; user finds who ran them."""
    exp = store.create_experiment("exp")
    parent = store.create_run(exp.id, name="parent", user="ann")
    store.create_run(exp.id, name="child", parent_id=parent.id, user="bob")
    store.create_run(exp.id, name="other", user="bob")
    assert _search(store, [exp.id], f"parent_id = '{parent.id}'") == ["child"]
    assert set(_search(store, [exp.id], "user = 'bob'")) == {"child", "other"}
    assert _search(store, [exp.id], "attributes.user LIKE 'a%'") == ["parent"]


def test_search_values_are_bound_not_pasted(store: MetadataStore) -> None:
    """Values that look like SQL are compared as plain text and match nothing."""
    exp_id, _ = _searchable(store)
    with pytest.raises(FilterSyntaxError, match="unexpected token"):
        store.search_runs([exp_id], "params.depth = 'x'' OR 1=1 --'")
    hostile = [
        'params.depth = "x\' OR 1=1 --"',
        "tags.team LIKE \"%' OR '1'='1\"",
        'name IN ("a\'); DROP TABLE runs; --")',
        "tags.`x' OR 1=1 --` = 'a'",
    ]
    for filter_string in hostile:
        assert _search(store, [exp_id], filter_string) == [], filter_string
    assert len(_search(store, [exp_id])) == 5


def test_search_order_by_metric_puts_missing_last(store: MetadataStore) -> None:
    """Ordering by a metric puts runs without it (or with NaN) last, in both directions."""
    exp_id, _ = _searchable(store)
    assert _search(store, [exp_id], order_by=["metrics.acc DESC"]) == [
        "alpha",
        "beta",
        "gamma",
        "epsilon",
        "delta",
    ]
    assert _search(store, [exp_id], order_by=["metrics.acc"]) == [
        "gamma",
        "beta",
        "alpha",
        "epsilon",
        "delta",
    ]
    assert _search(store, [exp_id], order_by=["metrics.loss asc"]) == [
        "alpha",
        "beta",
        "delta",
        "epsilon",
        "gamma",
    ]
    assert _search(store, [exp_id], "metrics.acc > 0.6", ["metrics.acc ASC"]) == ["beta", "alpha"]


def test_search_order_by_attributes_params_and_several_keys(store: MetadataStore) -> None:
    """order_by works on params (as strings), tags and attributes, and combines keys."""
    exp_id, _ = _searchable(store)
    assert _search(store, [exp_id], order_by=["params.depth"]) == [
        "gamma",
        "delta",
        "alpha",
        "beta",
        "epsilon",
    ]
    assert _search(store, [exp_id], order_by=["params.depth DESC"]) == [
        "beta",
        "delta",
        "alpha",
        "gamma",
        "epsilon",
    ]
    assert _search(store, [exp_id], order_by=["name"]) == [
        "alpha",
        "beta",
        "delta",
        "epsilon",
        "gamma",
    ]
    assert _search(store, [exp_id], order_by=["start_time ASC"]) == [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
    ]
    assert _search(store, [exp_id], order_by=["end_time DESC"]) == [
        "epsilon",
        "gamma",
        "beta",
        "alpha",
        "delta",
    ]
    assert _search(store, [exp_id], order_by=["status", "metrics.acc DESC"]) == [
        "gamma",
        "alpha",
        "beta",
        "epsilon",
        "delta",
    ]
    assert _search(store, [exp_id], "params.depth = '3'", ["params.depth", "name DESC"]) == [
        "delta",
        "alpha",
    ]
    assert _search(store, [exp_id], order_by=["tags.team DESC", "start_time"])[-1] == "delta"


def test_search_default_order_is_newest_first(store: MetadataStore) -> None:
    """Without order_by, runs come newest first."""
    exp_id, _ = _searchable(store)
    assert _search(store, [exp_id]) == ["epsilon", "delta", "gamma", "beta", "alpha"]


def test_search_across_experiments(store: MetadataStore) -> None:
    """Several experiment ids search them all; an empty list searches every experiment."""
    exp_a, exp_b, exp_c = (store.create_experiment(n) for n in ("a", "b", "c"))
    for exp in (exp_a, exp_b, exp_c):
        store.create_run(exp.id, name=f"run-{exp.name}")
    assert sorted(_search(store, [exp_a.id, exp_b.id])) == ["run-a", "run-b"]
    assert sorted(_search(store, [])) == ["run-a", "run-b", "run-c"]
    assert _search(store, ["0" * 32]) == []


def test_search_excludes_deleted_runs_unless_asked(store: MetadataStore) -> None:
    """Deleted runs are hidden from search unless include_deleted is set."""
    exp = store.create_experiment("exp")
    keep = store.create_run(exp.id, name="keep")
    gone = store.create_run(exp.id, name="gone")
    store.delete_run(gone.id)
    assert _search(store, [exp.id]) == ["keep"]
    page = store.search_runs([exp.id], include_deleted=True)
    assert {r.id for r in page.items} == {keep.id, gone.id}


def test_search_paging_visits_every_run_once(store: MetadataStore) -> None:
    """Following next_token visits every match exactly once, in the unpaged order."""
    exp = store.create_experiment("exp")
    points = []
    for i in range(23):
        # Equal start times and tied metric values force the tie-breakers to do their job.
        run = store.create_run(exp.id, name=f"r{i:02d}", start_time=1000)
        if i % 6:
            points.append(MetricPoint(run.id, "m", float(i % 4), 0, 1))
    store.log_metrics(points)
    for order_by in ([], ["metrics.m DESC"], ["metrics.m", "name DESC"]):
        everything = store.search_runs([exp.id], "", order_by, max_results=100)
        expected = [r.id for r in everything.items]
        assert len(expected) == 23
        assert everything.next_token is None
        seen: list[str] = []
        token: str | None = None
        pages = 0
        while True:
            page = store.search_runs([exp.id], "", order_by, max_results=5, page_token=token)
            pages += 1
            seen.extend(r.id for r in page.items)
            token = page.next_token
            if token is None:
                break
            assert isinstance(token, str)
            assert len(page.items) == 5
        assert seen == expected, order_by
        assert pages == 5
    exact = store.search_runs([exp.id], "", max_results=23)
    assert len(exact.items) == 23
    assert exact.next_token is None
    filtered = store.search_runs([exp.id], "metrics.m >= 2", max_results=3)
    rest = store.search_runs(
        [exp.id], "metrics.m >= 2", max_results=3, page_token=filtered.next_token
    )
    assert not {r.id for r in filtered.items} & {r.id for r in rest.items}


def test_search_bad_page_tokens(store: MetadataStore) -> None:
    """Malformed tokens, and tokens of another search, are refused with advice."""
    exp = store.create_experiment("exp")
    for i in range(3):
        store.create_run(exp.id, name=f"r{i}")
    token = store.search_runs([exp.id], "", max_results=1).next_token
    assert token is not None
    forged = base64.urlsafe_b64encode(json.dumps({"o": -5, "q": "x"}).encode()).decode()
    for bad in ["garbage!!", "e30", "bm90IGpzb24", forged, "€€€", token[:-3]]:
        with pytest.raises(InvalidInput, match="page token"):
            store.search_runs([exp.id], "", max_results=1, page_token=bad)
    with pytest.raises(InvalidInput, match="page token belongs to another search"):
        store.search_runs([exp.id], "name = 'r1'", max_results=1, page_token=token)
    with pytest.raises(InvalidInput, match="page token belongs to another search"):
        store.search_runs([exp.id], "", ["name"], max_results=1, page_token=token)
    second = store.search_runs([exp.id], "", max_results=1, page_token=token)
    assert len(second.items) == 1


def test_search_max_results_bounds(store: MetadataStore) -> None:
    """max_results must be an integer from 1 to 50,000."""
    exp = store.create_experiment("exp")
    store.create_run(exp.id)
    for bad in (0, -1, 50_001, 2.5, "10", True):
        with pytest.raises(InvalidInput, match="max_results must be an integer from 1 to 50000"):
            store.search_runs([exp.id], max_results=bad)  # type: ignore[arg-type]
    assert len(store.search_runs([exp.id], max_results=50_000).items) == 1
    assert len(store.search_runs([exp.id], max_results=1).items) == 1


def test_search_filter_errors(store: MetadataStore) -> None:
    """Malformed filters and order-by clauses raise FilterSyntaxError naming the token."""
    exp = store.create_experiment("exp")
    with pytest.raises(FilterSyntaxError, match=r"column 1 \('bogus.x'\): unknown prefix"):
        store.search_runs([exp.id], "bogus.x = 1")
    with pytest.raises(FilterSyntaxError, match=r"column 15.*is numeric"):
        store.search_runs([exp.id], "metrics.acc > 'high'")
    with pytest.raises(FilterSyntaxError, match=r"column 1 \('colour'\): unknown key"):
        store.search_runs([exp.id], "", ["colour DESC"])
