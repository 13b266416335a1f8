"""Evaluation metrics (scikit-learn) and which direction is better for each.

Classification: accuracy, precision, recall, F1 (binary for two classes, else the spec's
``average``), ROC-AUC (one-vs-rest for more than two classes; from ``predict_proba`` or
``decision_function``) and log-loss (only with ``predict_proba``). Regression: MSE, RMSE, MAE,
R². A metric that cannot be computed for a model (log-loss without probabilities, ROC-AUC when
a fold holds one class) is left out rather than made up.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from modelward.training.spec import CLASSIFICATION_METRICS, REGRESSION_METRICS

__all__ = [
    "LOWER_IS_BETTER",
    "classify",
    "default_metric",
    "evaluate",
    "greater_is_better",
    "metric_names",
    "scores",
    "summarize",
]

#: Metrics where a smaller value is better.
LOWER_IS_BETTER = frozenset({"log_loss", "mse", "rmse", "mae"})


def greater_is_better(metric: str) -> bool:
    """Whether a higher value of ``metric`` is better."""
    return metric not in LOWER_IS_BETTER


def default_metric(task: str) -> str:
    """The selection metric used when the spec names none."""
    return "accuracy" if task == "classification" else "rmse"


def metric_names(task: str) -> tuple[str, ...]:
    """Every metric computed for ``task``."""
    return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS


def scores(model: Any, x: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Return ``(predict_proba, decision_function)`` outputs, each ``None`` if unavailable."""
    proba = decision = None
    if _has(model, "predict_proba"):
        try:
            proba = np.asarray(model.predict_proba(x))
        except (AttributeError, NotImplementedError):
            proba = None
    if proba is None and _has(model, "decision_function"):
        decision = np.asarray(model.decision_function(x))
    return proba, decision


def _argmax_predictors() -> tuple[Any, ...]:
    """``predict`` methods defined as the most probable class of ``predict_proba``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.ensemble._forest import ForestClassifier
    from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

    from modelward.training.torch_mlp import MLPClassifier

    return (
        ForestClassifier.predict,
        HistGradientBoostingClassifier.predict,
        DecisionTreeClassifier.predict,
        ExtraTreeClassifier.predict,
        MLPClassifier.predict,
    )


def classify(model: Any, x: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(predictions, predict_proba, decision_function)`` of a classifier on ``x``.

    For estimators whose ``predict`` is by definition the most probable class (forests, trees,
    histogram gradient boosting, modelward's MLP), the predictions are taken from the
    probabilities instead of a second pass over the model; the result is the same.
    """
    proba, decision = scores(model, x)
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    classes = getattr(final, "classes_", None)
    if proba is not None and classes is not None and type(final).predict in _argmax_predictors():
        return np.asarray(classes).take(np.argmax(proba, axis=1)), proba, decision
    return np.asarray(model.predict(x)), proba, decision


def _has(model: Any, name: str) -> bool:
    try:
        return callable(getattr(model, name))
    except AttributeError:  # available_if raises when the method does not apply
        return False


def evaluate(
    task: str,
    y_true: Any,
    y_pred: Any,
    *,
    proba: np.ndarray | None = None,
    decision: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
    average: str = "macro",
) -> dict[str, float]:
    """Compute every metric of ``task`` that the available outputs allow."""
    if task == "regression":
        return _regression(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float))
    return _classification(y_true, y_pred, proba, decision, classes, average)


def _regression(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as m

    mse = float(m.mean_squared_error(y_true, y_pred))
    out = {"mse": mse, "rmse": math.sqrt(mse), "mae": float(m.mean_absolute_error(y_true, y_pred))}
    if len(y_true) > 1:
        out["r2"] = float(m.r2_score(y_true, y_pred))
    return out


def _classification(
    y_true: Any,
    y_pred: Any,
    proba: np.ndarray | None,
    decision: np.ndarray | None,
    classes: Sequence[Any] | None,
    average: str,
) -> dict[str, float]:
    from sklearn import metrics as m
    from sklearn.exceptions import UndefinedMetricWarning

    labels = list(classes) if classes is not None else sorted(set(np.asarray(y_true).tolist()))
    binary = len(labels) == 2
    kwargs: dict[str, Any] = (
        {"average": "binary", "pos_label": labels[1]} if binary else {"average": average}
    )
    with warnings.catch_warnings():
        # A fold without some predicted class makes precision 0 by definition; not an error.
        warnings.simplefilter("ignore", category=UndefinedMetricWarning)
        # One pass gives precision, recall and F1 together (each alone re-validates inputs).
        precision, recall, f1, _ = m.precision_recall_fscore_support(
            y_true, y_pred, zero_division=0, **kwargs
        )
    out = {
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
    }
    present = set(np.asarray(y_true).tolist())
    if len(present) < 2:
        return out
    try:
        if proba is not None:
            out["log_loss"] = float(m.log_loss(y_true, proba, labels=labels))
            if binary:
                out["roc_auc"] = float(m.roc_auc_score(y_true, proba[:, 1]))
            elif len(present) == len(labels):
                out["roc_auc"] = float(
                    m.roc_auc_score(y_true, proba, multi_class="ovr", labels=labels)
                )
        elif decision is not None:
            if binary:
                out["roc_auc"] = float(m.roc_auc_score(y_true, decision))
            elif len(present) == len(labels) and decision.ndim == 2:
                from scipy.special import softmax

                out["roc_auc"] = float(
                    m.roc_auc_score(
                        y_true, softmax(decision, axis=1), multi_class="ovr", labels=labels
                    )
                )
    except ValueError:
        pass  # e.g. a class missing from this fold: leave the metric out for it
    return out


def summarize(per_fold: Sequence[Mapping[str, float]]) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation of each metric present in every fold."""
    if not per_fold:
        return {}
    keys = set(per_fold[0])
    for fold in per_fold[1:]:
        keys &= set(fold)
    out: dict[str, tuple[float, float]] = {}
    for key in sorted(keys):
        values = np.array([f[key] for f in per_fold], dtype=float)
        out[key] = (float(values.mean()), float(values.std()))
    return out
