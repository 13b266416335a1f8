"""The search loop: hand trials to an executor, record each as a nested run, stop on budget.

The driver (this process) owns every write to the store: a trial's nested run is created when
the trial is submitted (RUNNING, with its params), and ended when its results come back
(FINISHED with per-fold and mean/std metrics, or FAILED with the error), so workers never
touch the store. Each fold of a trial is a task of its own, so workers stay busy to the end of
the search (a trial of five folds is not one long task) and fold progress is seen on every
executor. Which trials run is fixed before the first one starts: every candidate's
trials are ordered round-robin (trial 0 of each candidate, then trial 1, …) and
``budget.max_trials`` keeps the first ones, so the set never depends on timing. Only
``budget.max_time`` is a wall-clock limit: trials still running when it passes finish, no new
ones start.

Ctrl-C (or any error) cancels the trials in flight, ends their runs KILLED, and re-raises;
finished trials stay recorded, ready for a resume.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelward.entities import RunStatus
from modelward.training.executors.base import (
    Executor,
    ObjectRef,
    Resources,
    TaskOutcome,
    TaskState,
)
from modelward.training.leaderboard import TrialRecord
from modelward.training.space import CandidateSearch, TrialPlan
from modelward.training.spec import TrainingSpec
from modelward.training.trial import TrialResult, TrialTask, run_trial

__all__ = ["TRIAL_TAGS", "SearchContext", "SearchListener", "SearchLoop", "admitted_trials"]

log = logging.getLogger(__name__)

#: Tags every trial run carries (read back by a resume).
TRIAL_TAGS = {
    "candidate": "mw.trial.candidate",
    "index": "mw.trial.index",
    "params": "mw.trial.params",
    "label": "mw.trial.label",
    "estimator": "mw.trial.estimator",
    "device": "mw.trial.device",
    "host": "mw.trial.host",
    "executor": "mw.trial.executor",
    "error": "mw.trial.error",
    "role": "mw.training.role",
}

_ERROR_TAG_MAX = 2000


class SearchListener:
    """Receives progress of a search (the CLI draws progress bars from it). No-ops here."""

    def search_started(self, run_id: str, total_trials: int, folds: int, resumed: int) -> None:
        """Search ``run_id`` will run ``total_trials`` (``resumed`` of them already done)."""

    def trial_started(self, plan: TrialPlan, name: str) -> None:
        """A trial was submitted."""

    def fold_done(self, candidate: int, index: int, fold: int) -> None:
        """A fold of a running trial finished."""

    def trial_ended(self, record: TrialRecord) -> None:
        """A trial ended (FINISHED or FAILED)."""


@dataclass
class SearchContext:
    """What the loop needs besides the spec.

    Attributes:
        spec: The training spec.
        experiment_id: Experiment of the runs.
        parent_id: The parent run.
        data: Reference to ``(x_train, y_train, folds)`` shared with workers.
        preparation: The unfitted preparation step.
        task: ``classification`` or ``regression``.
        classes: Class labels.
        metric: Selection metric.
        maximize: Whether a higher metric is better.
    """

    spec: TrainingSpec
    experiment_id: str
    parent_id: str
    data: ObjectRef
    preparation: Any
    task: str
    classes: list[Any] | None
    metric: str
    maximize: bool

    @property
    def resources(self) -> Resources:
        """The per-trial resource request."""
        r = self.spec.resources
        return Resources(float(r.num_cpus), float(r.num_gpus), int(r.memory))

    def selection(self) -> dict[str, Any] | None:
        """Feature-selection settings for trials."""
        fs = self.spec.feature_selection
        if fs is None:
            return None
        return {"k": fs.k, "threshold": fs.threshold}

    def task_for(self, plan: TrialPlan) -> TrialTask:
        """The worker's task for ``plan``."""
        candidate = self.spec.candidates[plan.candidate]
        return TrialTask(
            plan=plan,
            estimator=candidate.estimator,
            params=dict(candidate.params),
            data=self.data,
            preparation=self.preparation,
            selection=self.selection(),
            task=self.task,
            classes=self.classes,
            average=self.spec.average,
            seed=self.spec.seed,
            num_cpus=float(self.spec.resources.num_cpus),
        )


def _searches(ctx: SearchContext) -> list[CandidateSearch]:
    return [
        CandidateSearch(
            i,
            c.space,
            ctx.spec.search_for(c),
            seed=ctx.spec.seed,
            maximize=ctx.maximize,
            where=f"candidates[{i}].space",
        )
        for i, c in enumerate(ctx.spec.candidates)
    ]


def admitted_trials(
    searches: Sequence[CandidateSearch], max_trials: int | None
) -> set[tuple[int, int]]:
    """The ``(candidate, index)`` keys that may run: round-robin order, first ``max_trials``."""
    keys = [(s.candidate, i) for s in searches for i in range(s.total or 0)]
    keys.sort(key=lambda k: (k[1], k[0]))
    return set(keys if max_trials is None else keys[:max_trials])


@dataclass
class _Trial:
    """A submitted trial: its run, and the results of its fold tasks as they come back."""

    plan: TrialPlan
    run_id: str
    name: str
    folds: int
    parts: dict[int, TrialResult] = field(default_factory=dict)
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.parts) + len(self.errors) >= self.folds

    def merged(self) -> TrialResult:
        """The whole trial's result, folds in order (failed when any fold failed)."""
        ordered = [self.parts[k] for k in sorted(self.parts)]
        first = ordered[0] if ordered else None
        result = TrialResult(
            self.plan,
            ok=not self.errors and len(ordered) == self.folds,
            device=first.device if first else "",
            host=first.host if first else "",
            pid=first.pid if first else 0,
            started_at=min((r.started_at for r in ordered), default=0),
            ended_at=max((r.ended_at for r in ordered), default=0),
        )
        for part in ordered:
            result.fold_metrics.extend(part.fold_metrics)
            result.fit_seconds.extend(part.fit_seconds)
            result.score_seconds.extend(part.score_seconds)
        if self.errors:
            result.error, result.traceback = self.errors[min(self.errors)]
        return result


class SearchLoop:
    """Runs the trials of one search.

    Args:
        ctx: The search context.
        tracking: The tracking service (``client.tracking``).
        artifacts: The artifact service (``client.artifacts``), for error and log files.
        executor: Where trials run.
        listener: Progress callbacks.
        clock: Monotonic clock (tests replace it).
    """

    def __init__(
        self,
        ctx: SearchContext,
        tracking: Any,
        artifacts: Any,
        executor: Executor,
        *,
        listener: SearchListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.tracking = tracking
        self.artifacts = artifacts
        self.executor = executor
        self.listener = listener or SearchListener()
        self.clock = clock

    def run(self, done: Sequence[TrialRecord] = ()) -> list[TrialRecord]:
        """Run every admitted trial not in ``done``; return all records (``done`` included)."""
        spec = self.ctx.spec
        searches = _searches(self.ctx)
        records: dict[tuple[int, int], TrialRecord] = {}
        for record in done:
            if record.candidate < len(searches):
                records[record.key] = record
        for search in searches:
            search.restore(
                [
                    (r.index, r.params, r.score(self.ctx.metric))
                    for r in records.values()
                    if r.candidate == search.candidate
                ]
            )
        admitted = admitted_trials(searches, spec.budget.max_trials)
        self.listener.search_started(
            self.ctx.parent_id,
            len(admitted),
            spec.cv.folds,
            sum(1 for k in records if k in admitted),
        )
        deadline = None if spec.budget.max_time is None else self.clock() + spec.budget.max_time
        slots = max(1, self.executor.slots(self.ctx.resources))
        queue: list[TrialPlan] = []
        in_flight: dict[str, _Trial] = {}  # fold task id -> its trial
        try:
            while True:
                for search in searches:
                    queue.extend(
                        p for p in search.ready() if p.key in admitted and p.key not in records
                    )
                queue.sort(key=lambda p: (p.index, p.candidate))
                # Keep every slot busy: a trial's folds go in when a slot is free.
                while queue and len(in_flight) < slots:
                    if deadline is not None and self.clock() >= deadline:
                        log.info("the search's time budget is spent; %d trials not run", len(queue))
                        queue.clear()
                        break
                    trial = self._submit(queue.pop(0))
                    in_flight.update(dict.fromkeys(trial.tasks, trial))
                if not in_flight:
                    break
                for outcome in self.executor.wait(list(in_flight), timeout=0.5):
                    trial = in_flight.pop(outcome.task_id)
                    self._collect(trial, outcome, in_flight)
                    if not trial.complete:
                        continue
                    record = self._record(trial)
                    records[record.key] = record
                    searches[record.candidate].tell(record.index, record.score(self.ctx.metric))
                    self.listener.trial_ended(record)
        except BaseException:
            self._abort(in_flight)
            raise
        return sorted(records.values(), key=lambda r: r.key)

    # -- one trial ---------------------------------------------------------------------------
    def _submit(self, plan: TrialPlan) -> _Trial:
        candidate = self.ctx.spec.candidates[plan.candidate]
        name = f"{candidate.label}-{plan.index}"
        tags = {
            TRIAL_TAGS["role"]: "trial",
            TRIAL_TAGS["candidate"]: str(plan.candidate),
            TRIAL_TAGS["index"]: str(plan.index),
            TRIAL_TAGS["label"]: candidate.label,
            TRIAL_TAGS["estimator"]: candidate.estimator,
            TRIAL_TAGS["params"]: json.dumps(plan.params, sort_keys=True, default=str),
            TRIAL_TAGS["executor"]: self.executor.name,
        }
        run = self.tracking.start_run(
            self.ctx.experiment_id,
            name=name,
            tags=tags,
            parent_id=self.ctx.parent_id,
            system_metrics=False,
        )
        folds = self.ctx.spec.cv.folds
        trial = _Trial(plan, run.id, name, folds)
        try:
            self.tracking.log_params(
                run.id, {"estimator": candidate.estimator, **candidate.params, **plan.params}
            )
            task = self.ctx.task_for(plan)
            for k in range(folds):
                task_id = self.executor.submit(
                    run_trial, dataclasses.replace(task, folds=(k,)), self.ctx.resources
                )
                trial.tasks[task_id] = k
        except BaseException:
            for task_id in trial.tasks:
                self.executor.cancel(task_id)
            self.tracking.end_run(run.id, RunStatus.FAILED)
            raise
        self.listener.trial_started(plan, name)
        return trial

    def _collect(self, trial: _Trial, outcome: TaskOutcome, in_flight: dict[str, _Trial]) -> None:
        """File one fold's outcome; after a failure, skip the trial's folds not started yet."""
        fold = trial.tasks[outcome.task_id]
        result: TrialResult | None = outcome.value if outcome.state == "SUCCEEDED" else None
        logs = self.executor.logs(outcome.task_id)
        if logs.strip():
            trial.logs.append(f"-- fold {fold}\n{logs}")
        if result is not None and result.ok:
            trial.parts[fold] = result
            self.listener.fold_done(trial.plan.candidate, trial.plan.index, fold)
            return
        error = (result.error if result is not None else outcome.error) or (
            "the trial failed without a message"
        )
        trace = (result.traceback if result is not None else outcome.traceback) or error
        trial.errors[fold] = (error, trace)
        for task_id, k in trial.tasks.items():
            if task_id in in_flight and self.executor.status(task_id) is TaskState.PENDING:
                self.executor.cancel(task_id)
                in_flight.pop(task_id)
                trial.errors.setdefault(k, (error, trace))

    def _record(self, trial: _Trial) -> TrialRecord:
        plan = trial.plan
        candidate = self.ctx.spec.candidates[plan.candidate]
        record = TrialRecord(
            plan.candidate,
            plan.index,
            candidate.label,
            candidate.estimator,
            dict(plan.params),
            "FAILED",
            trial.run_id,
        )
        result = trial.merged()
        if result.ok:
            self._log_success(record, result)
        else:
            record.error = result.error or "the trial failed without a message"
            record.device = result.device
            self._log_failure(record, result.traceback or record.error)
        if trial.logs:
            self._write(trial.run_id, "\n".join(trial.logs), "trial.log")
        status = RunStatus.FINISHED if record.status == "FINISHED" else RunStatus.FAILED
        self.tracking.end_run(trial.run_id, status)
        return record

    def _log_success(self, record: TrialRecord, result: TrialResult) -> None:
        run_id = record.run_id
        record.status = "FINISHED"
        record.device = result.device
        for fold, values in enumerate(result.fold_metrics):
            for name, value in values.items():
                self.tracking.log_metric(run_id, f"fold_{name}", value, step=fold)
        summary = result.summary()
        record.mean = {k: mean for k, (mean, _) in summary.items()}
        record.std = {k: std for k, (_, std) in summary.items()}
        record.fit_seconds = (
            sum(result.fit_seconds) / len(result.fit_seconds) if result.fit_seconds else math.nan
        )
        values = {f"mean_{k}": v for k, v in record.mean.items()}
        values.update({f"std_{k}": v for k, v in record.std.items()})
        values["mean_fit_seconds"] = record.fit_seconds
        self.tracking.log_metrics(run_id, values)
        self.tracking.set_tags(
            run_id, {TRIAL_TAGS["device"]: result.device, TRIAL_TAGS["host"]: result.host}
        )

    def _log_failure(self, record: TrialRecord, trace: str) -> None:
        error = record.error or ""
        tags = {TRIAL_TAGS["error"]: error[:_ERROR_TAG_MAX]}
        if record.device:
            tags[TRIAL_TAGS["device"]] = record.device
        self.tracking.set_tags(record.run_id, tags)
        self._write(record.run_id, trace, "error.txt")
        log.warning("trial %s-%d failed: %s", record.label, record.index, error)

    def _write(self, run_id: str, text: str, path: str) -> None:
        try:
            self.artifacts.log_bytes(f"runs/{run_id}", text.encode("utf-8"), path)
        except Exception as exc:  # a log file must never end the search
            log.warning("could not store %s of run %s: %s", path, run_id, exc)

    def _abort(self, in_flight: dict[str, _Trial]) -> None:
        for task_id in in_flight:
            try:
                self.executor.cancel(task_id)
            except Exception as exc:  # stopping anyway; keep going to end the runs
                log.debug("could not cancel %s: %s", task_id, exc)
        for run_id in {trial.run_id for trial in in_flight.values()}:
            try:
                self.tracking.end_run(run_id, RunStatus.KILLED)
            except Exception as exc:
                log.warning("could not mark trial run %s KILLED: %s", run_id, exc)
