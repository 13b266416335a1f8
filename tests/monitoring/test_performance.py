"""Live performance: the same numbers scikit-learn gives, and reasons for what is left out."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm

from modelward.monitoring.performance import compute_performance, infer_task


def _table(labels: list[object], preds: list[object]) -> pa.Table:
    return pa.table({"label": pa.array(labels), "prediction": pa.array(preds)})


def test_binary_classification_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.where(rng.random(300) < 0.8, y, 1 - y)
    labels: list[object] = y.tolist()
    labels[:20] = [None] * 20  # not labelled yet
    result = compute_performance(
        _table(labels, p.tolist()), task="classification", baseline={"accuracy": 0.9}
    )
    yt, pt = y[20:], p[20:]
    assert result.labelled == 280
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(yt, pt))
    assert result.metrics["f1"] == pytest.approx(skm.f1_score(yt, pt))
    assert result.metrics["precision"] == pytest.approx(skm.precision_score(yt, pt))
    assert result.metrics["recall"] == pytest.approx(skm.recall_score(yt, pt))
    assert result.deltas["accuracy"] == pytest.approx(result.metrics["accuracy"] - 0.9)
    assert "needs scores" in result.skipped["roc_auc"]


def test_scores_give_roc_auc() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    s = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1)
    result = compute_performance(_table(y.tolist(), s.tolist()), task="classification")
    assert result.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, s >= 0.5))


def test_multiclass_string_labels_use_the_average() -> None:
    y = ["a", "b", "c", "a", "b", "c", "a"]
    p = ["a", "b", "b", "a", "c", "c", "a"]
    result = compute_performance(_table(y, p), task=None, average="weighted")
    assert result.task == "classification"
    assert result.metrics["f1"] == pytest.approx(skm.f1_score(y, p, average="weighted"))


def test_regression_matches_sklearn_and_needs_two_rows_for_r2() -> None:
    y = [1.0, 2.5, 3.0, 4.5]
    p = [1.1, 2.0, 3.3, 4.0]
    result = compute_performance(_table(y, p), task=None, baseline={"rmse": 0.1})
    assert result.task == "regression"
    assert result.metrics["mae"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert result.metrics["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, p)))
    assert result.metrics["r2"] == pytest.approx(skm.r2_score(y, p))
    one = compute_performance(_table([1.0], [2.0]), task="regression")
    assert one.skipped["r2"] == "needs at least two labelled rows"
    assert one.metrics["mae"] == 1.0


def test_too_few_labels_skips_every_metric() -> None:
    result = compute_performance(_table([None, None], [1, 0]), task="classification")
    assert result.metrics == {}
    assert result.skipped["accuracy"] == "0 labelled rows (fewer than min_labels=1)"


def test_labels_of_another_type_are_compared_as_text_or_numbers() -> None:
    # Labels posted as strings for integer predictions are read as numbers.
    result = compute_performance(_table(["1", "0", "1"], [1, 0, 0]), task="classification")
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)


def test_task_inference() -> None:
    assert infer_task([0, 1, 1]) == "classification"
    assert infer_task([0.5, 1.25]) == "regression"
    assert infer_task(["a"]) == "classification"
