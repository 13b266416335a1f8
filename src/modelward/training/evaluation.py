"""The winner's evaluation on the held-out test rows: metrics, plots, feature importance.

Warnings raised while predicting (a model's convergence notes, a class missing from a curve)
are not errors of the evaluation and are kept out of the caller's warnings.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

from modelward.training import metrics as mx
from modelward.training.data import TrainingData

__all__ = [
    "WINNER_MODULES",
    "Evaluation",
    "evaluate_winner",
    "holdout_metrics",
    "preload_in_background",
]

log = logging.getLogger(__name__)

#: Modules only the winner's evaluation and logging need (plots, permutation importance, the
#: model's skops file); imported while trials run.
WINNER_MODULES = (
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "sklearn.inspection",
    "skops.io",
)


@dataclass
class Evaluation:
    """What :func:`evaluate_winner` found.

    Attributes:
        metrics: Every metric of the task on the test rows.
        images: ``plots/<name>.png`` file name -> PNG bytes.
        importance: ``{"method", "importance"}`` (feature -> value), when measurable.
    """

    metrics: dict[str, float]
    images: dict[str, bytes] = field(default_factory=dict)
    importance: dict[str, Any] | None = None


def holdout_metrics(model: Any, data: TrainingData, average: str) -> dict[str, float]:
    """Every metric of the task for ``model`` on the test rows."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        if data.task == "regression":
            return mx.evaluate("regression", data.y_test, model.predict(data.x_test))
        predicted, proba, decision = mx.classify(model, data.x_test)
        return mx.evaluate(
            "classification",
            data.y_test,
            predicted,
            proba=proba,
            decision=decision,
            classes=data.classes,
            average=average,
        )


def evaluate_winner(model: Any, data: TrainingData, *, average: str, seed: int) -> Evaluation:
    """Test metrics, the task's plots and feature importance of the refitted winner."""
    from modelward.training import plots

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        if data.task == "classification":
            predicted, proba, decision = mx.classify(model, data.x_test)
            result = Evaluation(
                mx.evaluate(
                    "classification",
                    data.y_test,
                    predicted,
                    proba=proba,
                    decision=decision,
                    classes=data.classes,
                    average=average,
                ),
                plots.classification_plots(
                    data.y_test, predicted, proba, decision, data.classes or []
                ),
            )
        else:
            predicted = model.predict(data.x_test)
            result = Evaluation(
                mx.evaluate("regression", data.y_test, predicted),
                plots.regression_plots(data.y_test, predicted),
            )
        try:
            importance, method = plots.feature_importance(
                model, data.x_test, data.y_test, seed=seed
            )
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("no feature importance for this model: %s", exc)
        else:
            result.images["feature_importance.png"] = plots.importance_plot(importance, method)
            result.importance = {"method": method, "importance": importance}
    return result


def preload_in_background(modules: tuple[str, ...] = WINNER_MODULES) -> None:
    """Import ``modules`` in a daemon thread at the lowest CPU priority.

    The driver mostly waits during a search; importing what the winner's evaluation needs in
    the meantime takes seconds off the end of a run, without slowing the trials.
    """
    import importlib
    import os
    import sys
    import threading

    wanted = [m for m in modules if m not in sys.modules]
    if not wanted:
        return

    def load() -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        for name in wanted:
            try:
                importlib.import_module(name)
            except Exception as exc:  # the real import, later, reports it properly
                log.debug("background import of %s failed: %s", name, exc)

    threading.Thread(target=load, name="modelward-preload", daemon=True).start()
