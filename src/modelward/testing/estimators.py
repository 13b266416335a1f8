"""Estimators that fail on purpose, for testing how training handles faults.

They live in the package (not in a test module) so worker processes and Ray workers can
import them by path, as a training spec names estimators.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

__all__ = ["FaultyClassifier"]


class FaultyClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Predicts the majority class, or fails in ``fit`` as told.

    Args:
        fault: ``none``, ``raise`` (a ``RuntimeError``) or ``kill`` (the process kills itself
            with SIGKILL, as the kernel's out-of-memory killer would).
        bias: Shifts nothing; a param to search over.
    """

    def __init__(self, fault: str = "none", bias: float = 0.0) -> None:
        self.fault = fault
        self.bias = bias

    def fit(self, X: Any, y: Any) -> FaultyClassifier:  # noqa: N803 - scikit-learn naming
        """Learn the majority class, or fail."""
        if self.fault == "raise":
            raise RuntimeError("FaultyClassifier was told to fail")
        if self.fault == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        labels, counts = np.unique(np.asarray(y), return_counts=True)
        self.classes_ = labels
        self.majority_ = labels[int(np.argmax(counts))]
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """The majority class for every row."""
        return np.full(len(X), self.majority_)
