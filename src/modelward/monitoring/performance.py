"""Live model performance: scikit-learn metrics on the labelled rows of a window.

The prediction log joined with feedback (by request id, ``label`` column) gives pairs of
ground truth and prediction. Metrics follow the training code, so they compare with the
held-out test metrics training logged (``test_accuracy``, ``test_rmse``, ...):

- classification: accuracy, precision, recall, F1 (binary with the larger label as positive
  for two classes, else ``average``), ROC-AUC when the logged prediction is a score of the
  positive class (floats in [0, 1] with 0/1 labels; a log of hard labels has no scores);
- regression: MAE, MSE, RMSE, R² (R² needs two labelled rows).

A metric that cannot be computed is left out with the reason in ``skipped``.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ALL_METRICS",
    "CLASSIFICATION_METRICS",
    "LOWER_IS_BETTER",
    "REGRESSION_METRICS",
    "PerformanceResult",
    "compute_performance",
    "infer_task",
]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "mse", "rmse", "r2")
ALL_METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
#: Metrics where smaller is better (a rise is a degradation).
LOWER_IS_BETTER = frozenset({"mae", "mse", "rmse", "log_loss"})


@dataclass(frozen=True)
class PerformanceResult:
    """Metrics of one window.

    Attributes:
        task: ``classification`` or ``regression``.
        rows: Rows in the window.
        labelled: Rows with a usable label.
        metrics: Metric values by name.
        baseline: The model's held-out test metrics by name.
        skipped: Metrics left out, with the reason.
    """

    task: str
    rows: int
    labelled: int
    metrics: Mapping[str, float] = field(default_factory=dict)
    baseline: Mapping[str, float] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def label_rate(self) -> float:
        """Share of rows with a label."""
        return self.labelled / self.rows if self.rows else 0.0

    @property
    def deltas(self) -> dict[str, float]:
        """``current - baseline`` for every metric with a baseline."""
        return {m: v - self.baseline[m] for m, v in self.metrics.items() if m in self.baseline}

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "task": self.task,
            "rows": self.rows,
            "labelled": self.labelled,
            "label_rate": self.label_rate,
            "metrics": dict(self.metrics),
            "baseline": dict(self.baseline),
            "deltas": self.deltas,
            "skipped": dict(self.skipped),
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def infer_task(predictions: Sequence[Any]) -> str:
    """``regression`` when predictions are non-integral numbers, else ``classification``."""
    values = [v for v in predictions if v is not None]
    if (
        values
        and all(_is_number(v) for v in values)
        and any(not float(v).is_integer() for v in values if math.isfinite(float(v)))
    ):
        return "regression"
    return "classification"


def _pairs(table: pa.Table) -> tuple[list[Any], list[Any]]:
    labels = table.column("label").to_pylist()
    preds = table.column("prediction").to_pylist()
    kept = [(y, p) for y, p in zip(labels, preds, strict=True) if y is not None and p is not None]
    return [y for y, _ in kept], [p for _, p in kept]


def _as_float(values: Sequence[Any]) -> tuple[np.ndarray, int]:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        with contextlib.suppress(TypeError, ValueError):
            out[i] = float(v)
    bad = int(np.count_nonzero(~np.isfinite(out)))
    return out, bad


def compute_performance(
    table: pa.Table,
    *,
    task: str | None,
    metrics: Sequence[str] | None = None,
    average: str = "macro",
    baseline: Mapping[str, float] | None = None,
    min_labels: int = 1,
) -> PerformanceResult:
    """Metrics of a window (a log table with ``prediction`` and ``label`` columns).

    Args:
        table: The window's rows joined with their labels.
        task: The task; ``None`` infers it from the predictions.
        metrics: Metrics to compute (default: every metric of the task).
        average: Averaging for multi-class precision, recall and F1.
        baseline: The model's test metrics by name.
        min_labels: Fewest labelled rows to compute anything.
    """
    y_raw, p_raw = _pairs(table) if "label" in table.column_names else ([], [])
    kind = task or infer_task(p_raw or table.column("prediction").to_pylist()[:1000])
    wanted = tuple(metrics) if metrics is not None else _defaults(kind)
    wanted = tuple(
        m
        for m in wanted
        if m in (CLASSIFICATION_METRICS if kind == "classification" else REGRESSION_METRICS)
    )
    base = {m: float(v) for m, v in (baseline or {}).items() if m in wanted}
    skipped: dict[str, str] = {}
    if len(y_raw) < min_labels:
        reason = f"{len(y_raw)} labelled rows (fewer than min_labels={min_labels})"
        return PerformanceResult(
            kind, table.num_rows, len(y_raw), {}, base, dict.fromkeys(wanted, reason)
        )
    if kind == "regression":
        values, labelled = _regression(y_raw, p_raw, wanted, skipped)
    else:
        values, labelled = _classification(y_raw, p_raw, wanted, average, skipped)
    return PerformanceResult(kind, table.num_rows, labelled, values, base, skipped)


def _defaults(task: str) -> tuple[str, ...]:
    return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS


def _regression(
    y_raw: list[Any], p_raw: list[Any], wanted: tuple[str, ...], skipped: dict[str, str]
) -> tuple[dict[str, float], int]:
    from sklearn import metrics as m

    y, bad_y = _as_float(y_raw)
    p, bad_p = _as_float(p_raw)
    ok = np.isfinite(y) & np.isfinite(p)
    y, p = y[ok], p[ok]
    if bad_y or bad_p:
        skipped["_labels"] = f"{bad_y + bad_p} non-numeric labels or predictions left out"
    if y.size == 0:
        for name in wanted:
            skipped[name] = "no numeric label"
        return {}, 0
    mse = float(m.mean_squared_error(y, p))
    everything = {
        "mse": mse,
        "rmse": math.sqrt(mse),
        "mae": float(m.mean_absolute_error(y, p)),
    }
    if y.size > 1:
        everything["r2"] = float(m.r2_score(y, p))
    else:
        skipped["r2"] = "needs at least two labelled rows"
    return {k: v for k, v in everything.items() if k in wanted}, int(y.size)


def _classification(
    y_raw: list[Any],
    p_raw: list[Any],
    wanted: tuple[str, ...],
    average: str,
    skipped: dict[str, str],
) -> tuple[dict[str, float], int]:
    from sklearn import metrics as m
    from sklearn.exceptions import UndefinedMetricWarning

    scores: np.ndarray | None = None
    numeric_preds = all(_is_number(v) for v in p_raw)
    if numeric_preds:
        p_float, _ = _as_float(p_raw)
        y_float, bad = _as_float(y_raw)
        is_score = (
            not bad
            and bool(np.all((p_float >= 0) & (p_float <= 1)))
            and not bool(np.all(np.mod(p_float, 1) == 0))
            and set(np.unique(y_float).tolist()) <= {0.0, 1.0}
        )
        if is_score:
            scores = p_float
            y: np.ndarray = y_float.astype(np.int64)
            pred: np.ndarray = (p_float >= 0.5).astype(np.int64)
        else:
            keep = np.isfinite(y_float)
            if bad:
                skipped["_labels"] = f"{bad} labels that are not numbers left out"
            y, pred = y_float[keep], p_float[keep]
    else:
        y = np.asarray([str(v) for v in y_raw], dtype=object)
        pred = np.asarray([str(v) for v in p_raw], dtype=object)
    if y.size == 0:
        for name in wanted:
            skipped[name] = "no usable label"
        return {}, 0
    classes = sorted(set(y.tolist()) | set(pred.tolist()))
    binary = len(classes) == 2
    kwargs: dict[str, Any] = (
        {"average": "binary", "pos_label": classes[1]} if binary else {"average": average}
    )
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        # A window without some predicted class makes precision 0 by definition.
        warnings.simplefilter("ignore", category=UndefinedMetricWarning)
        everything: dict[str, Callable[[], Any]] = {
            "accuracy": lambda: m.accuracy_score(y, pred),
            "precision": lambda: m.precision_score(y, pred, zero_division=0, **kwargs),
            "recall": lambda: m.recall_score(y, pred, zero_division=0, **kwargs),
            "f1": lambda: m.f1_score(y, pred, zero_division=0, **kwargs),
        }
        for name, compute in everything.items():
            if name in wanted:
                out[name] = float(compute())
    if "roc_auc" in wanted:
        if scores is None:
            skipped["roc_auc"] = (
                "needs scores; the prediction log holds class labels (log probabilities of "
                "the positive class as the prediction to get ROC-AUC)"
            )
        elif len(set(y.tolist())) < 2:
            skipped["roc_auc"] = "needs both classes among the labels"
        else:
            out["roc_auc"] = float(m.roc_auc_score(y, scores))
    return out, int(y.size)
