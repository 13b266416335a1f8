"""Metrics: every metric the task allows, none made up, direction known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelward.training import metrics as mx


def test_binary_classification_metrics_with_probabilities() -> None:
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    out = mx.evaluate("classification", y, proba.argmax(axis=1), proba=proba, classes=[0, 1])
    assert out["accuracy"] == 0.75
    assert out["precision"] == pytest.approx(2 / 3)
    assert out["recall"] == 1.0
    assert out["roc_auc"] == 1.0
    assert out["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.8, 0.7])))


def test_without_probabilities_log_loss_is_left_out() -> None:
    y = np.array([0, 1, 2, 2, 1, 0])
    decision = np.eye(3)[[0, 1, 2, 2, 0, 0]] * 2.0
    out = mx.evaluate(
        "classification", y, decision.argmax(axis=1), decision=decision, classes=[0, 1, 2]
    )
    assert "log_loss" not in out
    assert 0.5 < out["roc_auc"] <= 1.0
    assert set(out) == {"accuracy", "precision", "recall", "f1", "roc_auc"}


def test_regression_metrics() -> None:
    out = mx.evaluate("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert out["mse"] == pytest.approx(4 / 3)
    assert out["rmse"] == pytest.approx(math.sqrt(4 / 3))
    assert out["mae"] == pytest.approx(2 / 3)
    assert "r2" in out


def test_direction_defaults_and_summary() -> None:
    assert mx.greater_is_better("f1")
    assert not mx.greater_is_better("rmse")
    assert not mx.greater_is_better("log_loss")
    assert mx.default_metric("classification") == "accuracy"
    assert mx.default_metric("regression") == "rmse"
    summary = mx.summarize([{"a": 1.0, "b": 2.0}, {"a": 3.0}])
    assert summary == {"a": (2.0, 1.0)}
