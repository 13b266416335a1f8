"""Resuming an interrupted search from its parent run's nested runs.

A search's parent run records the spec's digest; each trial's run records its candidate,
index and params as tags, and its mean/std metrics. Resuming reads the FINISHED and FAILED
trials back as :class:`~modelward.training.leaderboard.TrialRecord` s (those are not run
again), reopens the parent run, and lets the search run the rest. Trials that were KILLED or
never started run again. The spec must be the one the search started with.
"""

from __future__ import annotations

import json
import math
from typing import Any

from modelward.entities import Run, RunStatus
from modelward.errors import Conflict, InvalidInput
from modelward.training.leaderboard import TrialRecord
from modelward.training.search import TRIAL_TAGS

__all__ = ["PARENT_TAGS", "check_resumable", "load_trials"]

#: Tags of a search's parent run.
PARENT_TAGS = {
    "role": "mw.training.role",
    "spec_digest": "mw.training.spec_digest",
    "dataset": "mw.training.dataset",
    "from": "mw.training.from",
}


def check_resumable(run: Run, spec_digest: str) -> None:
    """Refuse to resume a run that is not an interrupted search of this same spec.

    Raises:
        InvalidInput: The run is not a search's parent run.
        Conflict: It is still running, finished, or was started from another spec.
    """
    if run.tags.get(PARENT_TAGS["role"]) != "search":
        raise InvalidInput(
            f"run {run.id} is not the parent run of a training search; pass the run id that "
            "`modelward train` printed",
            details={"run_id": run.id},
        )
    if run.status is RunStatus.RUNNING:
        raise Conflict(
            f"search {run.id} is still running; wait for it or stop it before resuming",
            details={"run_id": run.id},
        )
    if run.status is RunStatus.FINISHED:
        raise Conflict(
            f"search {run.id} already finished; there is nothing to resume. Start a new "
            "search with `modelward train SPEC`",
            details={"run_id": run.id},
        )
    recorded = run.tags.get(PARENT_TAGS["spec_digest"])
    if recorded != spec_digest:
        raise Conflict(
            f"the spec differs from the one search {run.id} started with (sha256 "
            f"{(recorded or '?')[:12]}…, now {spec_digest[:12]}…); resume with the same spec, "
            "or start a new search",
            details={"run_id": run.id, "recorded": recorded, "given": spec_digest},
        )


def _record(run: Run) -> TrialRecord | None:
    tags = run.tags
    try:
        candidate = int(tags[TRIAL_TAGS["candidate"]])
        index = int(tags[TRIAL_TAGS["index"]])
        params: dict[str, Any] = json.loads(tags.get(TRIAL_TAGS["params"], "{}"))
    except (KeyError, ValueError):
        return None  # not a trial run (or written by something else): ignore it
    mean = {k[5:]: v for k, v in run.metrics.items() if k.startswith("mean_")}
    std = {k[4:]: v for k, v in run.metrics.items() if k.startswith("std_")}
    fit = mean.pop("fit_seconds", math.nan)
    return TrialRecord(
        candidate=candidate,
        index=index,
        label=tags.get(TRIAL_TAGS["label"], ""),
        estimator=tags.get(TRIAL_TAGS["estimator"], ""),
        params=params,
        status=run.status.value,
        run_id=run.id,
        mean=mean,
        std=std,
        fit_seconds=fit,
        device=tags.get(TRIAL_TAGS["device"], ""),
        error=tags.get(TRIAL_TAGS["error"]),
    )


def load_trials(tracking: Any, parent: Run) -> list[TrialRecord]:
    """The FINISHED and FAILED trials of a search (the latest run of each trial wins)."""
    found: dict[tuple[int, int], TrialRecord] = {}
    token: str | None = None
    while True:
        page = tracking.search_runs(
            [parent.experiment_id],
            f"parent_id = '{parent.id}'",
            ["start_time ASC"],
            max_results=1000,
            page_token=token,
        )
        for run in page.items:
            if run.status not in (RunStatus.FINISHED, RunStatus.FAILED):
                continue
            record = _record(run)
            if record is not None:
                found[record.key] = record
        token = page.next_token
        if token is None:
            break
    return sorted(found.values(), key=lambda r: r.key)
