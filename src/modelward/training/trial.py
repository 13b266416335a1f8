"""One trial: cross-validate one pipeline with one set of params (runs inside a worker).

:func:`run_trial` needs no store and no client: it takes a :class:`TrialTask` (the data
reference, the precomputed fold indices, the estimator path and params) and returns a
:class:`TrialResult` (per-fold metrics, timings, the device it ran on, or the error). The
driver logs results as nested runs. A failure inside the trial (an estimator refusing a
param combination, a numerical error) is caught here and returned as a FAILED result with
the estimator's message and traceback, so the search goes on.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Imported here so the local executor's fork server loads them once for every worker: the
# pipeline machinery and the estimator families specs name most.
import sklearn.base
import sklearn.ensemble
import sklearn.linear_model
import sklearn.pipeline
import sklearn.tree  # noqa: F401

from modelward.training import devices, metrics
from modelward.training.executors.base import ObjectRef
from modelward.training.features import MutualInfoSelector
from modelward.training.pipeline import make_pipeline
from modelward.training.space import TrialPlan

__all__ = ["TrialResult", "TrialTask", "build_trial_pipeline", "evaluate_model", "run_trial"]


@dataclass(frozen=True)
class TrialTask:
    """Everything a worker needs to run one trial.

    Attributes:
        plan: Candidate index, trial index and searched params.
        estimator: Import path of the estimator class.
        params: Fixed params of the candidate (the plan's params override nothing: the spec
            keeps them disjoint).
        data: Reference to ``(x_train, y_train, folds)``; ``folds`` holds one
            ``(train_rows, validation_rows)`` pair of row positions per fold.
        preparation: The unfitted preparation step (or ``None``).
        selection: ``{"k": …}`` or ``{"threshold": …}`` for feature selection, or ``None``.
        task: ``classification`` or ``regression``.
        classes: Class labels (classification).
        average: Averaging of precision/recall/F1 for several classes.
        seed: Seed for the estimator and the selector.
        num_cpus: CPUs the trial was given.
        folds: Which folds to run (``None``: all); the search runs each fold as a task.
    """

    plan: TrialPlan
    estimator: str
    params: dict[str, Any]
    data: ObjectRef
    preparation: Any
    selection: dict[str, Any] | None
    task: str
    classes: list[Any] | None
    average: str
    seed: int
    num_cpus: float = 1.0
    folds: tuple[int, ...] | None = None


@dataclass
class TrialResult:
    """What a trial reports back.

    Attributes:
        plan: The trial's plan.
        ok: Whether every fold ran.
        fold_metrics: Metrics of each fold.
        fit_seconds: Fitting time of each fold.
        score_seconds: Prediction and scoring time of each fold.
        device: What it ran on (``cpu x1``, ``cuda:0 (NVIDIA H100)``).
        host: Host name of the worker.
        pid: Process id of the worker.
        started_at: ms since the epoch.
        ended_at: ms since the epoch.
        error: ``ExceptionType: message`` when it failed.
        traceback: Full traceback when it failed.
    """

    plan: TrialPlan
    ok: bool
    fold_metrics: list[dict[str, float]] = field(default_factory=list)
    fit_seconds: list[float] = field(default_factory=list)
    score_seconds: list[float] = field(default_factory=list)
    device: str = "cpu"
    host: str = ""
    pid: int = 0
    started_at: int = 0
    ended_at: int = 0
    error: str | None = None
    traceback: str | None = None

    def summary(self) -> dict[str, tuple[float, float]]:
        """Mean and standard deviation of each metric over the folds."""
        return metrics.summarize(self.fold_metrics)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def build_trial_pipeline(task: TrialTask) -> Any:
    """The unfitted pipeline of a trial."""
    from modelward.training.estimators import build_estimator, import_estimator

    cls = import_estimator(task.estimator)
    estimator = build_estimator(cls, {**task.params, **task.plan.params}, seed=task.seed)
    selector = None
    if task.selection is not None:
        selector = MutualInfoSelector(
            task=task.task,
            k=task.selection.get("k"),
            threshold=task.selection.get("threshold"),
            random_state=task.seed,
        )
    return make_pipeline(task.preparation, selector, estimator)


def _rows(data: Any, index: np.ndarray) -> Any:
    return data.iloc[index] if hasattr(data, "iloc") else data[index]


def run_trial(task: TrialTask) -> TrialResult:
    """Cross-validate the trial's pipeline; never raises for a failing estimator."""
    started = _now_ms()
    result = TrialResult(task.plan, ok=False, host=devices.host(), pid=os.getpid())
    result.started_at = started
    try:
        x, y, folds = task.data.get()
        model: Any = None
        chosen = range(len(folds)) if task.folds is None else task.folds
        for k in chosen:
            train_rows, valid_rows = folds[k]
            model = build_trial_pipeline(task)
            x_train, y_train = _rows(x, train_rows), _rows(y, train_rows)
            x_valid, y_valid = _rows(x, valid_rows), _rows(y, valid_rows)
            t0 = time.perf_counter()
            model.fit(x_train, y_train)
            t1 = time.perf_counter()
            result.fold_metrics.append(evaluate_model(model, x_valid, y_valid, task))
            result.fit_seconds.append(t1 - t0)
            result.score_seconds.append(time.perf_counter() - t1)
        result.device = devices.describe_run_device(model, task.num_cpus)
        result.ok = True
    except Exception as exc:
        message = str(exc).strip()
        result.error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        result.traceback = traceback.format_exc()
    result.ended_at = _now_ms()
    return result


def evaluate_model(model: Any, x: Any, y: Any, task: TrialTask) -> dict[str, float]:
    """Every metric of the task for ``model`` on ``(x, y)``."""
    if task.task == "regression":
        return metrics.evaluate("regression", y, model.predict(x))
    predicted, proba, decision = metrics.classify(model, x)
    return metrics.evaluate(
        "classification",
        y,
        predicted,
        proba=proba,
        decision=decision,
        classes=task.classes,
        average=task.average,
    )
