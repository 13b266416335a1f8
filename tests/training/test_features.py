"""Mutual-information feature selection: top-k or threshold, seeded, inside pipelines."""

from __future__ import annotations

import numpy as np
import pytest

from modelward.training.features import MutualInfoSelector


@pytest.fixture
def informative() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    x = np.column_stack(
        [rng.normal(size=300), y + 0.1 * rng.normal(size=300), rng.normal(size=300)]
    )
    return x, y


def test_top_k_keeps_the_informative_feature(informative: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = informative
    selector = MutualInfoSelector(k=1, random_state=0).fit(x, y)
    assert selector.get_support().tolist() == [False, True, False]
    assert selector.transform(x).shape == (300, 1)


def test_threshold_and_never_empty(informative: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = informative
    selector = MutualInfoSelector(k=None, threshold=0.2, random_state=0).fit(x, y)
    assert selector.get_support().tolist() == [False, True, False]
    everything_low = MutualInfoSelector(k=None, threshold=100.0).fit(x, y)
    assert everything_low.get_support().sum() == 1


def test_seeded_scores_repeat_and_regression_works(
    informative: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = informative
    a = MutualInfoSelector(k=2, random_state=4).fit(x, y).scores_
    b = MutualInfoSelector(k=2, random_state=4).fit(x, y).scores_
    assert np.array_equal(a, b)
    reg = MutualInfoSelector(task="regression", k=1, random_state=0).fit(x, x[:, 1] * 3.0)
    assert reg.get_support().tolist() == [False, True, False]


def test_k_larger_than_features_keeps_all(informative: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = informative
    assert MutualInfoSelector(k=10).fit(x, y).get_support().all()
    with pytest.raises(ValueError, match="needs k or threshold"):
        MutualInfoSelector(k=None, threshold=None).fit(x, y)
