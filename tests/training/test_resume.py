"""Ctrl-C keeps finished trials and marks the search KILLED; a resume finishes the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelward.client import Client
from modelward.entities import RunStatus
from modelward.errors import Conflict, InvalidInput
from modelward.training.leaderboard import TrialRecord
from modelward.training.search import SearchListener

SpecFactory = Callable[..., dict[str, Any]]


class InterruptAfter(SearchListener):
    """Raises KeyboardInterrupt (as Ctrl-C would) once ``n`` trials have ended."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.ended: list[TrialRecord] = []
        self.run_id: str | None = None

    def search_started(self, run_id: str, total_trials: int, folds: int, resumed: int) -> None:
        self.run_id = run_id

    def trial_ended(self, record: TrialRecord) -> None:
        self.ended.append(record)
        if len(self.ended) == self.n:
            raise KeyboardInterrupt


def _children(client: Client, parent_id: str) -> list[Any]:
    experiment = client.tracking.get_run(parent_id).experiment_id
    return list(
        client.tracking.search_runs(
            [experiment], f"parent_id = '{parent_id}'", ["start_time ASC"], max_results=1000
        ).items
    )


def test_interrupt_then_resume_runs_only_the_missing_trials(
    client: Client, wine_spec: SpecFactory
) -> None:
    spec = wine_spec()
    spec["candidates"][1]["space"]["max_depth"] = [1, 2, 4]  # 2 + 3 = 5 trials
    listener = InterruptAfter(2)
    with pytest.raises(KeyboardInterrupt):
        client.training.train(spec, workers=2, listener=listener)
    parent_id = listener.run_id
    assert parent_id is not None
    assert client.tracking.get_run(parent_id).status is RunStatus.KILLED
    before = _children(client, parent_id)
    finished_before = {c.id for c in before if c.status is RunStatus.FINISHED}
    assert len(finished_before) == 2
    assert {c.status for c in before} <= {RunStatus.FINISHED, RunStatus.KILLED}

    result = client.training.train(spec, workers=2, resume=parent_id)
    assert result.run_id == parent_id
    assert result.status == "FINISHED"
    assert sum(result.trials.values()) == 5
    parent = client.tracking.get_run(parent_id)
    assert parent.status is RunStatus.FINISHED
    assert "test_accuracy" in parent.metrics
    after = _children(client, parent_id)
    finished = [c for c in after if c.status is RunStatus.FINISHED]
    # Every trial ran to the end exactly once: the two from before were not redone.
    assert len(finished) == 5
    keys = {(c.tags["mw.trial.candidate"], c.tags["mw.trial.index"]) for c in finished}
    assert len(keys) == 5
    assert finished_before <= {r["run_id"] for r in result.leaderboard}


def test_resume_refuses_what_it_cannot_continue(client: Client, wine_spec: SpecFactory) -> None:
    listener = InterruptAfter(1)
    with pytest.raises(KeyboardInterrupt):
        client.training.train(wine_spec(), workers=1, listener=listener)
    parent_id = listener.run_id
    assert parent_id is not None
    with pytest.raises(Conflict, match=r"the spec differs from the one search .* started with"):
        client.training.train(wine_spec(seed=99), resume=parent_id)
    with pytest.raises(InvalidInput, match="--resume continues a search; it cannot be combined"):
        client.training.train(wine_spec(), resume=parent_id, from_model="models:/x@y")
    done = client.training.train(wine_spec(), workers=1, resume=parent_id)
    with pytest.raises(Conflict, match=r"search .* already finished; there is nothing to resume"):
        client.training.train(wine_spec(), resume=done.run_id)
    trial_run = done.leaderboard[0]["run_id"]
    with pytest.raises(InvalidInput, match=r"is not the parent run of a training search"):
        client.training.train(wine_spec(), resume=trial_run)
    with pytest.raises(LookupError, match="does not exist"):
        client.training.train(wine_spec(), resume="0" * 32)
