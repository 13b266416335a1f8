"""The training service (``client.training``): a spec in, the best model it supports out.

:meth:`TrainingService.train` checks the spec and the data before anything runs, opens a
parent run, runs the search (:mod:`modelward.training.search`) on an executor, refits the
winner on the whole training split, evaluates it on the held-out test rows, and logs to the
parent run: test metrics, plots, the leaderboard, the fitted pipeline (preparation included)
with its signature, and the dataset version used. Registration, when asked, comes last, after
the model is fully logged: a failure anywhere before registers nothing.

With ``from_model`` it continues a registered model on new data instead of searching
(:mod:`modelward.training.warm_start`); with ``resume`` it continues an interrupted search
under the same parent run (:mod:`modelward.training.resume`).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelward.entities import RunStatus
from modelward.errors import InvalidInput, ModelwardError
from modelward.training import metrics as mx
from modelward.training.data import TrainingData, load_training_data, make_folds
from modelward.training.evaluation import evaluate_winner, holdout_metrics, preload_in_background
from modelward.training.executors import Executor, make_executor
from modelward.training.leaderboard import (
    TrialRecord,
    leaderboard_csv,
    leaderboard_rows,
    select_winner,
)
from modelward.training.resume import PARENT_TAGS, check_resumable, load_trials
from modelward.training.search import SearchContext, SearchListener, SearchLoop
from modelward.training.spec import TrainingSpec, WarmStart, load_spec, parse_spec

__all__ = ["TrainingResult", "TrainingService"]

log = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    """What :meth:`TrainingService.train` returns.

    Attributes:
        run_id: The parent run.
        experiment_id: Its experiment.
        status: The parent run's final status.
        dataset: The dataset version used (``wine@2``).
        task: ``classification`` or ``regression``.
        metric: The selection metric.
        winner: The winning trial (``None`` for a warm start).
        cv_score: The winner's mean selection metric over folds.
        test_metrics: The refitted winner's metrics on the test rows.
        leaderboard: One row per trial, best first.
        model_uri: ``runs:/RUN_ID/model``.
        registered: ``{"name", "version"}`` when registered.
        trials: Count of trials by status.
        artifacts: Paths logged on the parent run.
        seconds: Wall time.
        timings: Seconds per phase: ``prepare`` (checks, data, split, executor), ``search``,
            ``refit``, ``evaluate`` (test metrics and plots), ``log`` (model, leaderboard,
            registration).
    """

    run_id: str
    experiment_id: str
    status: str
    dataset: str
    task: str
    metric: str
    winner: TrialRecord | None = None
    cv_score: float | None = None
    test_metrics: dict[str, float] = field(default_factory=dict)
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    model_uri: str | None = None
    registered: dict[str, Any] | None = None
    trials: dict[str, int] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for ``--json``)."""
        winner = None
        if self.winner is not None:
            winner = {
                "trial": f"{self.winner.label}-{self.winner.index}",
                "estimator": self.winner.estimator,
                "params": self.winner.params,
                "run_id": self.winner.run_id,
            }
        return {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "status": self.status,
            "dataset": self.dataset,
            "task": self.task,
            "metric": self.metric,
            "winner": winner,
            "cv_score": self.cv_score,
            "test_metrics": self.test_metrics,
            "leaderboard": self.leaderboard,
            "model_uri": self.model_uri,
            "registered": self.registered,
            "trials": self.trials,
            "artifacts": self.artifacts,
            "seconds": self.seconds,
            "timings": self.timings,
        }


class TrainingService:
    """Cross-validated model selection, warm starts and resumes, recorded as runs.

    Args:
        tracking: ``client.tracking``.
        artifacts: ``client.artifacts``.
        datasets: ``client.datasets`` (reads dataset versions, compiles recipes, records
            run inputs).
        models: ``client.models`` (logs and loads models).
        registry: ``client.registry`` (registers winners).
    """

    def __init__(
        self,
        tracking: Any,
        artifacts: Any,
        *,
        datasets: Any = None,
        models: Any = None,
        registry: Any = None,
    ) -> None:
        self.tracking = tracking
        self.artifacts = artifacts
        self.datasets = datasets
        self.models = models
        self.registry = registry

    # -- entry point ---------------------------------------------------------------------------
    def train(
        self,
        spec: TrainingSpec | Mapping[str, Any] | str | Path,
        *,
        executor: str | Executor = "local",
        workers: int | None = None,
        address: str | None = None,
        register: str | None = None,
        from_model: str | None = None,
        resume: str | None = None,
        listener: SearchListener | None = None,
    ) -> TrainingResult:
        """Run a training spec end to end.

        Args:
            spec: A :class:`TrainingSpec`, its mapping, or the path of a YAML file.
            executor: ``local``, ``ray``, or an :class:`Executor` instance (not closed here).
            workers: Most concurrent trials (local) or CPUs of a local Ray instance.
            address: Ray cluster ``HOST:PORT``.
            register: Register the winner under this name.
            from_model: Continue this registered model (``models:/NAME@ALIAS``) instead of
                searching.
            resume: Parent run id of an interrupted search to continue.
            listener: Progress callbacks.

        Raises:
            InvalidInput: A bad spec, data or parameter (before anything runs).
            NotFound: An unknown dataset, column, estimator or run.
            Unavailable: The Ray cluster cannot be reached.
            KeyboardInterrupt: Re-raised after the parent run was marked KILLED.
        """
        started = time.perf_counter()
        if isinstance(spec, str | Path):
            spec = load_spec(spec, from_model=from_model)
        spec = parse_spec(spec, from_model=from_model)
        if resume is not None and spec.warm_start.from_model is not None:
            raise InvalidInput("--resume continues a search; it cannot be combined with --from")
        if register is not None:
            from modelward.store.metadata.registry import check_model_name

            check_model_name(register)
        if spec.warm_start.from_model is not None:
            result = self._warm_start(spec, register, listener)
        else:
            result = self._search(
                spec,
                executor,
                workers,
                address,
                register,
                resume,
                listener or SearchListener(),
                started,
            )
        result.seconds = time.perf_counter() - started
        return result

    # -- search ----------------------------------------------------------------------------------
    def _search(
        self,
        spec: TrainingSpec,
        executor: str | Executor,
        workers: int | None,
        address: str | None,
        register: str | None,
        resume: str | None,
        listener: SearchListener,
        started: float,
    ) -> TrainingResult:
        from modelward.training.estimators import check_candidate
        from modelward.training.pipeline import preparation_for

        own_executor = not isinstance(executor, Executor)
        runner: Executor | None = executor if isinstance(executor, Executor) else None
        preload_in_background()
        if executor == "local":
            # Started first: its fork server imports the trial code while the checks run.
            runner = make_executor("local", workers=workers, address=address)
            runner.warm_up()
        try:
            for i, candidate in enumerate(spec.candidates):
                check_candidate(candidate, f"candidates[{i}]")
            data = load_training_data(self.datasets, spec.data, folds=spec.cv.folds, seed=spec.seed)
            metric = _selection_metric(spec, data.task)
            _check_candidates_fit_task(spec, data.task)
            preparation = preparation_for(spec.data.preparation, data.x_train, self.datasets)
            folds = make_folds(data, spec.cv.folds, spec.cv.shuffle, spec.seed)
            if runner is None:
                runner = make_executor(str(executor), workers=workers, address=address)
            runner.warm_up()
            done: list[TrialRecord] = []
            if resume is not None:
                parent = self.tracking.get_run(resume)
                check_resumable(parent, spec.digest())
                done = load_trials(self.tracking, parent)
                parent = self.tracking.resume_run(parent.id, system_metrics=False)
            else:
                parent = self._start_parent(spec, data, metric, "search", runner.name)
        except BaseException:
            if own_executor and runner is not None:
                runner.close(cancel=True)
            raise
        result = TrainingResult(
            parent.id, parent.experiment_id, "RUNNING", data.ref, data.task, metric
        )
        clock = _Phases(result, started)
        try:
            self._log_inputs(parent.id, data)
            ctx = SearchContext(
                spec=spec,
                experiment_id=parent.experiment_id,
                parent_id=parent.id,
                data=runner.put((data.x_train, data.y_train, folds)),
                preparation=preparation,
                task=data.task,
                classes=data.classes,
                metric=metric,
                maximize=mx.greater_is_better(metric),
            )
            clock.lap("prepare")
            records = SearchLoop(ctx, self.tracking, self.artifacts, runner, listener=listener).run(
                done
            )
            if own_executor:
                runner.close(cancel=True)  # free the workers before the refit
            clock.lap("search")
            result.trials = _count(records)
            result.leaderboard = leaderboard_rows(records, metric, mx.metric_names(data.task))
            self._log_leaderboard(parent.id, result)
            winner = select_winner(records, metric)
            if winner is None:
                first = next((r.error for r in records if r.error), "no trial ran")
                raise ModelwardError(
                    f"no trial finished, so there is no model to keep (first error: {first}); "
                    f"see the trial runs under {parent.id}",
                    details={"run_id": parent.id},
                )
            result.winner = winner
            result.cv_score = winner.score(metric)
            model = _fit(self._winner_pipeline(ctx, winner), data.x_train, data.y_train)
            clock.lap("refit")
            self._finish(parent.id, spec, data, model, result, register, winner, clock)
        except BaseException as exc:
            result.status = self._end_failed(parent.id, exc)
            raise
        finally:
            if own_executor:
                runner.close(cancel=True)
        return result

    def _winner_pipeline(self, ctx: SearchContext, winner: TrialRecord) -> Any:
        from modelward.training.space import TrialPlan
        from modelward.training.trial import build_trial_pipeline

        plan = TrialPlan(winner.candidate, winner.index, dict(winner.params))
        return build_trial_pipeline(ctx.task_for(plan))

    def _start_parent(
        self, spec: TrainingSpec, data: TrainingData, metric: str, role: str, executor: str
    ) -> Any:
        tags = {
            PARENT_TAGS["role"]: role,
            PARENT_TAGS["spec_digest"]: spec.digest(),
            PARENT_TAGS["dataset"]: data.ref,
            "mw.executor": executor,
        }
        if spec.warm_start.from_model is not None:
            tags[PARENT_TAGS["from"]] = spec.warm_start.from_model
        parent = self.tracking.start_run(
            spec.experiment, name=spec.run_name, tags=tags, system_metrics=False
        )
        try:
            params: dict[str, Any] = {
                "dataset": data.ref,
                "target": data.target,
                "task": data.task,
                "metric": metric,
                "seed": spec.seed,
                "n_features": len(data.features),
                "n_train_rows": len(data.y_train),
                "n_test_rows": len(data.y_test),
                "split": data.split.get("name", ""),
                "test_size": spec.data.split.test_size,
            }
            if role == "search":
                params.update(
                    {
                        "cv_folds": spec.cv.folds,
                        "candidates": ", ".join(c.label for c in spec.candidates),
                        "max_trials": spec.budget.max_trials,
                        "max_time": spec.budget.max_time,
                    }
                )
            if spec.feature_selection is not None:
                fs = spec.feature_selection
                params["feature_selection"] = (
                    f"mutual_info k={fs.k}"
                    if fs.k is not None
                    else f"mutual_info >= {fs.threshold}"
                )
            self.tracking.log_params(parent.id, params)
            self.artifacts.log_bytes(
                f"runs/{parent.id}", spec.to_yaml().encode("utf-8"), "spec.yaml"
            )
        except BaseException:
            self.tracking.end_run(parent.id, RunStatus.FAILED)
            raise
        return parent

    def _log_inputs(self, run_id: str, data: TrainingData) -> None:
        """Record the dataset version on the run: trained on, and tested on, with the split."""
        split = data.split.get("name")
        for role in ("train", "test"):
            self.datasets.log_input(run_id, data.version, role, split=split)

    def _log_leaderboard(self, run_id: str, result: TrainingResult) -> None:
        scope = f"runs/{run_id}"
        self.artifacts.log_text(scope, leaderboard_csv(result.leaderboard), "leaderboard.csv")
        self.artifacts.log_json(scope, result.leaderboard, "leaderboard.json")
        result.artifacts += ["leaderboard.csv", "leaderboard.json"]

    # -- the winner --------------------------------------------------------------------------------
    def _finish(
        self,
        run_id: str,
        spec: TrainingSpec,
        data: TrainingData,
        model: Any,
        result: TrainingResult,
        register: str | None,
        winner: TrialRecord | None,
        clock: _Phases,
    ) -> None:
        evaluation = evaluate_winner(model, data, average=spec.average, seed=spec.seed)
        result.test_metrics = evaluation.metrics
        scope = f"runs/{run_id}"
        if evaluation.importance is not None:
            self.artifacts.log_json(scope, evaluation.importance, "feature_importance.json")
            result.artifacts.append("feature_importance.json")
        for name, png in evaluation.images.items():
            self.artifacts.log_bytes(scope, png, f"plots/{name}")
            result.artifacts.append(f"plots/{name}")
        clock.lap("evaluate")
        values = {f"test_{k}": v for k, v in result.test_metrics.items()}
        if result.cv_score is not None:
            values[f"cv_{result.metric}"] = result.cv_score
        self.tracking.log_metrics(run_id, values)
        if winner is not None:
            self.tracking.set_tags(
                run_id,
                {
                    "mw.training.winner": f"{winner.label}-{winner.index}",
                    "mw.training.winner_run": winner.run_id,
                },
            )
        result.model_uri = self._log_model(run_id, model, data)
        if register is not None:
            version = self.registry.register(
                result.model_uri,
                register,
                description=f"trained by run {run_id} on {data.ref}",
                tags={"dataset": data.ref, "metric": result.metric},
            )
            result.registered = {"name": version.name, "version": version.version}
        self.tracking.end_run(run_id, RunStatus.FINISHED)
        clock.lap("log")
        result.status = "FINISHED"

    def _log_model(self, run_id: str, model: Any, data: TrainingData) -> str:
        if self.models is None:
            raise InvalidInput("logging the model needs the model service (client.models)")
        example = data.x_train.head(5)
        logged = self.models.log_model(model, "model", run_id=run_id, input_example=example)
        final = model.steps[-1][1] if hasattr(model, "steps") else model
        if callable(getattr(final, "to_torch", None)):
            # The bare network too, for the PyTorch flavor (its input: prepared features).
            import numpy as np

            prepared = model[:-1].transform(example) if hasattr(model, "steps") else example
            self.models.log_model(
                final.to_torch(),
                "torch_model",
                run_id=run_id,
                input_example=np.asarray(prepared, dtype=np.float32),
            )
        return str(logged.uri)

    # -- warm start --------------------------------------------------------------------------------
    def _warm_start(
        self, spec: TrainingSpec, register: str | None, listener: SearchListener | None
    ) -> TrainingResult:
        from modelward.training.warm_start import continue_training, split_pipeline

        ws: WarmStart = spec.warm_start
        source = str(ws.from_model)
        if self.models is None:
            raise InvalidInput("--from needs the model service (client.models)")
        predictor = self.models.load_model(source, backend="native")
        model = predictor.unwrap()
        names = getattr(model, "feature_names_in_", None)
        data_spec = spec.data
        if data_spec.features is None and names is not None:
            data_spec = data_spec.model_copy(update={"features": [str(n) for n in names]})
        data = load_training_data(self.datasets, data_spec, folds=2, seed=spec.seed)
        metric = _selection_metric(spec, data.task)
        parent = self._start_parent(spec, data, metric, "warm_start", "inline")
        result = TrainingResult(
            parent.id, parent.experiment_id, "RUNNING", data.ref, data.task, metric
        )
        try:
            self._log_inputs(parent.id, data)
            baseline = holdout_metrics(model, data, spec.average)
            self.tracking.log_metrics(
                parent.id, {f"baseline_test_{k}": v for k, v in baseline.items()}
            )
            _, final = split_pipeline(model)
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                done = continue_training(
                    model,
                    data.x_train,
                    data.y_train,
                    epochs=ws.epochs,
                    extra_estimators=ws.extra_estimators,
                    classes=data.classes,
                )
            self.tracking.log_params(
                parent.id,
                {
                    "from_model": source,
                    "estimator": f"{type(final).__module__}.{type(final).__qualname__}",
                    **{f"warm_start_{k}": v for k, v in done.items()},
                },
            )
            self._finish(parent.id, spec, data, model, result, register, None, _Phases(result))
        except BaseException as exc:
            result.status = self._end_failed(parent.id, exc)
            raise
        return result

    def _end_failed(self, run_id: str, exc: BaseException) -> str:
        status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        try:
            self.tracking.set_tags(
                run_id, {"mw.training.error": f"{type(exc).__name__}: {exc}"[:2000]}
            )
            self.tracking.end_run(run_id, status)
        except Exception as end_exc:  # the original error matters more
            log.warning("could not end run %s: %s", run_id, end_exc)
        return status.value


class _Phases:
    """Adds the seconds since the last lap to ``result.timings[name]``."""

    def __init__(self, result: TrainingResult, start: float | None = None) -> None:
        self.result = result
        self.last = time.perf_counter() if start is None else start

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.result.timings[name] = self.result.timings.get(name, 0.0) + now - self.last
        self.last = now


def _fit(model: Any, x: Any, y: Any) -> Any:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        model.fit(x, y)
    for w in caught:
        log.info("refit warning: %s: %s", w.category.__name__, w.message)
    return model


def _count(records: list[TrialRecord]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r.status] = out.get(r.status, 0) + 1
    return out


def _selection_metric(spec: TrainingSpec, task: str) -> str:
    metric = spec.metric or mx.default_metric(task)
    if metric not in mx.metric_names(task):
        raise InvalidInput(
            f"metric {metric!r} does not fit the {task} task inferred from "
            f"{spec.data.target!r}; choose one of {', '.join(mx.metric_names(task))} or set "
            "data.task",
            details={"metric": metric, "task": task},
        )
    return metric


def _check_candidates_fit_task(spec: TrainingSpec, task: str) -> None:
    from sklearn.base import is_classifier, is_regressor

    from modelward.training.estimators import import_estimator

    wanted = "classifier" if task == "classification" else "regressor"
    for i, candidate in enumerate(spec.candidates):
        try:
            instance = import_estimator(candidate.estimator)()
        except TypeError:
            continue  # needs constructor arguments: its params were checked already
        kind = (
            "classifier"
            if is_classifier(instance)
            else ("regressor" if is_regressor(instance) else None)
        )
        if kind is not None and kind != wanted:
            raise InvalidInput(
                f"candidates[{i}].estimator: {candidate.estimator} is a {kind} but the task is "
                f"{task}; use a {wanted}",
                details={"estimator": candidate.estimator, "task": task},
            )
