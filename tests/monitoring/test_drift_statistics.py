"""Every statistic against SciPy's reference implementation, on raw data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

from modelward.errors import InvalidInput
from modelward.monitoring.statistics import (
    adjust_p_values,
    bin_counts_sorted,
    chi2_counts,
    jensenshannon_counts,
    ks_2samp_sorted,
    psi,
    quantile_edges,
    wasserstein_sorted,
)

SIZES = [(1, 1), (1, 7), (5, 3), (40, 41), (999, 1000), (3_000, 9_000), (20_000, 12_345)]


def _pair(n: int, m: int, seed: int, discrete: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if discrete:  # many ties
        return (
            np.sort(rng.integers(0, 6, n).astype(float)),
            np.sort(rng.integers(1, 7, m).astype(float)),
        )
    return np.sort(rng.normal(0, 1, n)), np.sort(rng.normal(0.2, 1.3, m))


@pytest.mark.parametrize(("n", "m"), SIZES)
@pytest.mark.parametrize("discrete", [False, True])
def test_ks_matches_scipy(n: int, m: int, discrete: bool) -> None:
    a, b = _pair(n, m, n + m, discrete)
    d, p = ks_2samp_sorted(a, b)
    ref = stats.ks_2samp(a, b)
    assert d == pytest.approx(ref.statistic, abs=1e-15)
    assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("n", "m"), SIZES)
@pytest.mark.parametrize("discrete", [False, True])
def test_wasserstein_matches_scipy(n: int, m: int, discrete: bool) -> None:
    a, b = _pair(n, m, n * 7 + m, discrete)
    assert wasserstein_sorted(a, b) == pytest.approx(
        stats.wasserstein_distance(a, b), rel=1e-12, abs=1e-15
    )
    assert wasserstein_sorted(b, a) == pytest.approx(wasserstein_sorted(a, b), rel=1e-12)


def test_wasserstein_beyond_one_block() -> None:
    a, b = _pair(200_000, 150_001, 9)
    assert wasserstein_sorted(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)


@pytest.mark.parametrize(
    ("n", "m", "offset"), [(200_000, 4096, 0.0), (65_537, 3, 1e6), (97, 12, 5.0)]
)
def test_wasserstein_against_a_small_sample(n: int, m: int, offset: float) -> None:
    # The path used against a profile's sample (m much smaller than n), also far from 0.
    a, b = _pair(n, m, 4)
    a, b = a + offset, b + offset
    assert wasserstein_sorted(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-10)
    ties_a, ties_b = _pair(n, m, 5, discrete=True)
    assert wasserstein_sorted(ties_a, ties_b) == pytest.approx(
        stats.wasserstein_distance(ties_a, ties_b), rel=1e-10
    )


def test_chi2_matches_scipy_contingency() -> None:
    ref, cur = np.array([50, 30, 20, 0]), np.array([20, 30, 45, 5])
    stat, p = chi2_counts(ref, cur)
    expected = stats.chi2_contingency(np.vstack([ref[:4], cur[:4]]))
    assert stat == pytest.approx(expected.statistic, rel=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-12)


def test_chi2_drops_empty_categories_and_handles_a_single_one() -> None:
    stat, p = chi2_counts([10, 0, 5], [3, 0, 9])
    expected = stats.chi2_contingency(np.array([[10, 5], [3, 9]]))
    assert (stat, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)
    assert chi2_counts([10, 0], [4, 0]) == (0.0, 1.0)
    with pytest.raises(InvalidInput, match="at least one value in each window"):
        chi2_counts([1, 2], [0, 0])


def test_jensenshannon_matches_scipy() -> None:
    r, c = np.array([10, 20, 30, 0]), np.array([5, 5, 30, 10])
    expected = jensenshannon(r / r.sum(), c / c.sum(), base=2)
    assert jensenshannon_counts(r, c) == pytest.approx(expected, rel=1e-12)
    assert jensenshannon_counts([1, 0], [0, 1]) == pytest.approx(1.0)
    assert jensenshannon_counts([3, 3], [1, 1]) == pytest.approx(0.0, abs=1e-12)


def test_psi_is_symmetrised_kl_divergence() -> None:
    r, c = np.array([10.0, 20, 30, 40]), np.array([15.0, 25, 25, 35])
    p, q = r / r.sum(), c / c.sum()
    expected = float(np.sum(special.rel_entr(q, p) + special.rel_entr(p, q)))
    assert psi(r, c) == pytest.approx(expected, rel=1e-12)
    # An empty bin gets the fraction eps instead of 0, so PSI stays finite.
    with_empty = psi([0, 10], [5, 5], eps=1e-4)
    p2, q2 = np.array([1e-4, 1.0]), np.array([0.5, 0.5])
    assert with_empty == pytest.approx(float(np.sum((q2 - p2) * np.log(q2 / p2))))
    with pytest.raises(InvalidInput, match="same bins on both sides"):
        psi([1, 2], [1, 2, 3])


def test_quantile_bins() -> None:
    ref = np.arange(1.0, 101.0)
    edges = quantile_edges(ref, 4)
    assert edges.tolist() == pytest.approx(np.quantile(ref, [0.25, 0.5, 0.75]).tolist())
    assert bin_counts_sorted(ref, edges).tolist() == [25, 25, 25, 25]
    # Discrete data: duplicate edges collapse.
    assert quantile_edges(np.array([1.0] * 50 + [2.0] * 50), 10).tolist() == [1.0, 1.5, 2.0]
    with pytest.raises(InvalidInput, match="bins must be at least 2"):
        quantile_edges(ref, 1)


def test_p_value_corrections() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.5])
    assert adjust_p_values(p, "bonferroni").tolist() == pytest.approx([0.04, 0.16, 0.12, 1.0])
    # Holm: sorted p * (m, m-1, ...), running maximum.
    assert adjust_p_values(p, "holm").tolist() == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert adjust_p_values(p, "bh").tolist() == pytest.approx(
        stats.false_discovery_control(p, method="bh").tolist()
    )
    assert adjust_p_values(p, "none").tolist() == p.tolist()
    assert adjust_p_values([], "bh").size == 0
    with pytest.raises(InvalidInput, match="unknown p-value correction 'sidak'"):
        adjust_p_values(p, "sidak")


def test_empty_samples_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="at least one finite value; got 0 and 3 values"):
        wasserstein_sorted(np.array([]), np.array([1.0, 2.0, 3.0]))
