"""Feature selection by mutual information (information gain) with the target.

:class:`MutualInfoSelector` is a scikit-learn selector: it sits in the pipeline after the
preparation steps, so cross-validation selects features on each training fold only (no
leakage), and the fitted winner carries its selection. It keeps the ``k`` highest-scoring
features, or those scoring at least ``threshold``, using scikit-learn's
``mutual_info_classif`` / ``mutual_info_regression`` with a fixed ``random_state`` (their
estimate adds noise; the seed makes it repeatable). scikit-learn's ``SelectKBest`` covers
top-k but not a threshold, and holding a seeded score function would need a
``functools.partial`` that safe model loading refuses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["MutualInfoSelector"]


class MutualInfoSelector(SelectorMixin, BaseEstimator):  # type: ignore[misc]
    """Keep features by their mutual information with the target.

    Args:
        task: ``classification`` or ``regression`` (which estimator of MI to use).
        k: Keep this many best features (all when there are fewer).
        threshold: Keep features whose score is at least this (nats); used when ``k`` is None.
        n_neighbors: Neighbours of the MI estimator.
        random_state: Seed of the MI estimator's noise.

    Attributes:
        scores_: Mutual information of each input feature.
        n_features_in_: Number of input features.
    """

    def __init__(
        self,
        task: str = "classification",
        k: int | None = 10,
        threshold: float | None = None,
        n_neighbors: int = 3,
        random_state: int | None = 0,
    ) -> None:
        self.task = task
        self.k = k
        self.threshold = threshold
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> MutualInfoSelector:  # noqa: N803 - scikit-learn naming
        """Score every feature against ``y``."""
        from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

        x = validate_data(self, X, accept_sparse=False, dtype=np.float64, ensure_all_finite=True)
        if self.k is None and self.threshold is None:
            raise ValueError("MutualInfoSelector needs k or threshold")
        if self.k is not None and self.k < 1:
            raise ValueError(f"k must be at least 1, not {self.k}")
        score = mutual_info_classif if self.task == "classification" else mutual_info_regression
        self.scores_ = np.asarray(
            score(x, y, n_neighbors=self.n_neighbors, random_state=self.random_state)
        )
        return self

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "scores_")
        if self.k is not None:
            keep = min(self.k, len(self.scores_))
            # Stable ordering: ties keep the earlier feature, so selection is repeatable.
            order = np.argsort(-self.scores_, kind="stable")[:keep]
            mask = np.zeros(len(self.scores_), dtype=bool)
            mask[order] = True
            return mask
        mask = self.scores_ >= float(self.threshold or 0.0)
        if not mask.any():
            mask[int(np.argmax(self.scores_))] = True  # never select nothing
        return np.asarray(mask)
