"""Evaluation plots of the winner on the test rows, as PNG bytes (matplotlib, Agg).

Classification: confusion matrix, ROC and precision-recall curves (one-vs-rest per class for
more than two classes). Regression: residuals against predictions. Both: feature importance,
from the model's own ``feature_importances_`` or ``coef_`` when it has them, else permutation
importance on the test rows. Figures are drawn on ``matplotlib.figure.Figure`` objects, never
through pyplot's global state, so plotting is safe beside other threads and leaves no windows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["classification_plots", "feature_importance", "importance_plot", "regression_plots"]

#: Most features shown in the importance plot.
TOP_FEATURES = 20


def _figure(width: float = 6.0, height: float = 4.5) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def classification_plots(
    y_true: Any,
    y_pred: Any,
    proba: np.ndarray | None,
    decision: np.ndarray | None,
    classes: Sequence[Any],
) -> dict[str, bytes]:
    """``confusion_matrix.png``, ``roc_curve.png`` and ``precision_recall.png``."""
    from sklearn.metrics import ConfusionMatrixDisplay

    out: dict[str, bytes] = {}
    fig, ax = _figure()
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=list(classes), ax=ax, colorbar=False
    )
    ax.set_title("Confusion matrix (test rows)")
    out["confusion_matrix.png"] = _png(fig)
    scores = _class_scores(proba, decision, len(classes))
    if scores is not None:
        out["roc_curve.png"] = _curves("roc", y_true, scores, classes)
        out["precision_recall.png"] = _curves("pr", y_true, scores, classes)
    return out


def _class_scores(
    proba: np.ndarray | None, decision: np.ndarray | None, n_classes: int
) -> np.ndarray | None:
    if proba is not None:
        return proba
    if decision is None:
        return None
    if decision.ndim == 1:
        return np.column_stack([-decision, decision])
    return decision if decision.shape[1] == n_classes else None


def _curves(kind: str, y_true: Any, scores: np.ndarray, classes: Sequence[Any]) -> bytes:
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    fig, ax = _figure()
    y = np.asarray(y_true)
    shown = [classes[1]] if len(classes) == 2 else list(classes)
    for label in shown:
        column = list(classes).index(label)
        positive = y == label
        if positive.all() or not positive.any():
            continue  # a class absent from the test rows has no curve
        display = RocCurveDisplay if kind == "roc" else PrecisionRecallDisplay
        display.from_predictions(
            positive, scores[:, column], pos_label=True, name=f"class {label}", ax=ax
        )
    if kind == "roc":
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
        ax.set_title("ROC curve (test rows)")
    else:
        ax.set_title("Precision-recall curve (test rows)")
    return _png(fig)


def regression_plots(y_true: Any, y_pred: Any) -> dict[str, bytes]:
    """``residuals.png``: residual against prediction, and predicted against actual."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    fig = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    left.scatter(p, y - p, s=12, alpha=0.7)
    left.axhline(0, color="grey", linestyle="--", linewidth=1)
    left.set_xlabel("predicted")
    left.set_ylabel("residual (actual - predicted)")
    left.set_title("Residuals (test rows)")
    right.scatter(y, p, s=12, alpha=0.7)
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    right.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1)
    right.set_xlabel("actual")
    right.set_ylabel("predicted")
    right.set_title("Predicted vs actual")
    return {"residuals.png": _png(fig)}


def _feature_names(model: Any, n: int) -> list[str]:
    steps = getattr(model, "steps", None)
    if steps and len(steps) > 1:
        try:
            names = list(model[:-1].get_feature_names_out())
            if len(names) == n:
                return [str(x) for x in names]
        except (AttributeError, ValueError, TypeError):
            pass
    return [f"x{i}" for i in range(n)]


def feature_importance(
    model: Any, x_test: Any, y_test: Any, *, seed: int, scoring: str | None = None
) -> tuple[dict[str, float], str]:
    """Importance of each feature and how it was measured (``model`` or ``permutation``)."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    native = getattr(final, "feature_importances_", None)
    if native is None and getattr(final, "coef_", None) is not None:
        coef = np.abs(np.asarray(final.coef_, dtype=float))
        native = coef.mean(axis=0) if coef.ndim == 2 else coef
    if native is not None:
        values = np.asarray(native, dtype=float).ravel()
        names = _feature_names(model, len(values))
        return dict(zip(names, values.tolist(), strict=True)), "model"
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        model, x_test, y_test, n_repeats=5, random_state=seed, scoring=scoring
    )
    names = [str(c) for c in getattr(x_test, "columns", range(result.importances_mean.size))]
    return dict(zip(names, result.importances_mean.tolist(), strict=True)), "permutation"


def importance_plot(importance: dict[str, float], method: str) -> bytes:
    """``feature_importance.png``: the most important features, largest on top."""
    top = sorted(importance.items(), key=lambda kv: abs(kv[1]), reverse=True)[:TOP_FEATURES]
    top.reverse()
    fig, ax = _figure(6.5, max(3.0, 0.3 * len(top) + 1.2))
    ax.barh([k for k, _ in top], [v for _, v in top])
    ax.set_xlabel(
        "importance (from the model)" if method == "model" else "mean score drop when permuted"
    )
    ax.set_title(f"Feature importance ({method})")
    return _png(fig)
