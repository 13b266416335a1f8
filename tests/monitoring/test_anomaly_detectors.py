"""Robust z-score and EWMA detectors on synthetic monitoring series."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modelward.errors import InvalidInput
from modelward.monitoring.anomaly import EWMADetector, RobustZScoreDetector


def _latency(n: int = 500, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(100.0, 5.0, n)


def test_robust_z_score_flags_spikes_not_noise() -> None:
    history = _latency()
    history[[10, 200]] = [400.0, 380.0]  # outliers in the history barely move the baseline
    det = RobustZScoreDetector().fit(history)
    assert det.median_ == pytest.approx(100.0, abs=1.0)
    assert det.scale_ == pytest.approx(5.0, rel=0.1)
    series = _latency(200, seed=1)
    series[[50, 120]] = [160.0, 20.0]
    result = det.score(series)
    assert result.indices == (50, 120)
    assert result.scores[50] > 3.5
    assert result.scores[120] < -3.5


def test_robust_z_score_matches_modified_z_formula() -> None:
    history = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    det = RobustZScoreDetector().fit(history)
    mad = np.median(np.abs(history - 3.0))
    expected = 0.6745 * (10.0 - 3.0) / mad
    assert det.score([10.0]).scores[0] == pytest.approx(expected, rel=1e-3)


def test_direction() -> None:
    det = RobustZScoreDetector(direction="down").fit(_latency())
    result = det.score([100.0, 200.0, 10.0])
    assert result.indices == (2,)
    assert RobustZScoreDetector(direction="up").fit(_latency()).score([10.0, 200.0]).indices == (1,)


def test_constant_history_flags_any_change_with_finite_score() -> None:
    det = RobustZScoreDetector().fit([0.0] * 50)
    result = det.score([0.0, 0.001])
    assert result.indices == (1,)
    assert np.isfinite(result.scores).all()


def test_rolling_window_follows_level_changes() -> None:
    rng = np.random.default_rng(2)
    series = np.concatenate([rng.normal(10, 1, 300), rng.normal(30, 1, 300)])
    series[450] = 45.0
    det = RobustZScoreDetector(window=50).fit(series[:50])
    result = det.score(series[50:])
    flagged = set(result.indices)
    assert 400 in flagged  # index 450 overall
    assert 250 in flagged  # the level change itself
    # Once half the window holds the new level it is the baseline: rare flags after that.
    later = [i for i in flagged if i >= 280 and i != 400]
    assert len(later) <= 2


def test_ewma_flags_spikes_and_adapts() -> None:
    rng = np.random.default_rng(3)
    errors = rng.normal(0.02, 0.002, 400)
    errors[300] = 0.05
    det = EWMADetector().fit(errors[:100])
    result = det.score(errors[100:])
    assert result.indices == (200,)
    assert result.threshold == 4.0
    # The spike entered the running statistics clipped: the next points are not anomalies.
    assert not result.anomalous[201:].any()


def test_ewma_scores_online_from_scratch_after_warmup() -> None:
    x = np.r_[np.ones(20) * 5.0 + np.linspace(0, 0.1, 20), 9.0]
    result = EWMADetector(warmup=10).fit().score(x)
    assert np.isnan(result.scores[:10]).all()
    assert result.indices == (20,)


def test_score_does_not_change_the_detector() -> None:
    det = EWMADetector().fit(_latency(50))
    before = (det.n_seen_, det.mean_, det.var_)
    det.score(_latency(30, seed=9))
    assert (det.n_seen_, det.mean_, det.var_) == before


def test_missing_points_are_skipped() -> None:
    det = RobustZScoreDetector().fit([1.0, np.nan, 2.0, 3.0])
    result = det.score([np.nan, 2.0])
    assert np.isnan(result.scores[0])
    assert not result.anomalous[0]
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["scores"][0] is None
    assert data["n_anomalies"] == 0


def test_parameters_are_checked() -> None:
    with pytest.raises(InvalidInput, match="threshold must be positive, got 0"):
        RobustZScoreDetector(threshold=0).fit([1.0])
    with pytest.raises(InvalidInput, match="direction 'left' is unknown"):
        EWMADetector(direction="left").fit()
    with pytest.raises(InvalidInput, match=r"alpha must lie in \(0, 1\], got 2"):
        EWMADetector(alpha=2).fit()
    with pytest.raises(InvalidInput, match="history has no finite value"):
        RobustZScoreDetector().fit([np.nan])
    with pytest.raises(InvalidInput, match="must be one-dimensional"):
        RobustZScoreDetector().fit([[1.0, 2.0]])
    with pytest.raises(InvalidInput, match="not fitted yet"):
        EWMADetector().score([1.0])
