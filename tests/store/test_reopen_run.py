"""Reopening an ended run (used to resume interrupted work under the same run)."""

from __future__ import annotations

from modelward.entities import RunStatus
from modelward.store.metadata.base import MetadataStore


def test_reopen_makes_the_run_running_and_changes_its_owner(store: MetadataStore) -> None:
    experiment = store.create_experiment("reopen")
    run = store.create_run(experiment.id, host="old-host", pid=11, pid_start=1.0)
    store.end_run(run.id, RunStatus.KILLED, 5_000)
    reopened = store.reopen_run(run.id, host="new-host", pid=22, pid_start=2.0, at=9_000)
    assert reopened.status is RunStatus.RUNNING
    assert reopened.end_time is None
    assert (reopened.host, reopened.pid, reopened.heartbeat_at) == ("new-host", 22, 9_000)
    running = {row[0]: row for row in store.list_running_runs()}
    assert running[run.id][1:] == ("new-host", 22, 2.0, 9_000)
    store.end_run(run.id, RunStatus.FINISHED, 10_000)
    assert store.get_run(run.id).status is RunStatus.FINISHED
