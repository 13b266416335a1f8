"""Two-sample statistics used by drift detection, vectorised with NumPy and checked against SciPy.

Every function here is pure: arrays in, numbers out. Numeric functions take **sorted** finite
``float64`` arrays, because a sorted array is what a column summary keeps (the whole column, or
a profile's sample), so sorting happens once per column and window, not once per statistic.

Where SciPy has a reference implementation the result agrees with it (the test suite compares
on raw data):

==========================  ===============================================================
function                    reference
==========================  ===============================================================
:func:`ks_2samp_sorted`     ``scipy.stats.ks_2samp`` (two-sided, ``method="auto"``)
:func:`wasserstein_sorted`  ``scipy.stats.wasserstein_distance``
:func:`chi2_counts`         ``scipy.stats.chi2_contingency`` (it is called)
:func:`jensenshannon_counts` ``scipy.spatial.distance.jensenshannon`` (same formula on
                            ``scipy.special.rel_entr``; importing scipy.spatial would
                            pull in scipy.sparse, 12 MB more per process)
:func:`psi`                 ``scipy.special.rel_entr(p, q) + rel_entr(q, p)`` summed (PSI is
                            the symmetrised Kullback-Leibler divergence)
:func:`adjust_p_values`     ``scipy.stats.false_discovery_control`` for ``"bh"``/``"by"``
==========================  ===============================================================

The two numeric statistics are our own code only for speed: SciPy re-sorts its inputs and
searches 2n points per call (about 160 ms per million-row pair here), while these reuse the sorted
arrays (Wasserstein: one linear merge of the two quantile functions, about 20 ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelward.errors import InvalidInput

__all__ = [
    "CORRECTIONS",
    "EXACT_KS_MAX_N",
    "Correction",
    "adjust_p_values",
    "bin_counts_sorted",
    "chi2_counts",
    "jensenshannon_counts",
    "ks_2samp_sorted",
    "psi",
    "quantile_edges",
    "wasserstein_sorted",
]

FloatArray = NDArray[np.float64]
Correction = Literal["bonferroni", "holm", "bh", "by", "none"]
#: Multiple-testing corrections understood by :func:`adjust_p_values`.
CORRECTIONS: tuple[str, ...] = ("bonferroni", "holm", "bh", "by", "none")
#: Up to this many values per sample, KS p-values are exact (SciPy's own rule for "auto").
EXACT_KS_MAX_N = 10_000


def _dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Inner product without BLAS.

    ``np.dot`` on vectors goes to OpenBLAS, which starts threads that busy-wait: on a shared
    2-core machine that made a drift report 2-8x slower and its timing erratic. ``einsum``
    runs NumPy's own single-threaded loop, and is faster for these sizes anyway.
    """
    return float(np.einsum("i,i->", a, b))


def _check_sorted_pair(a: FloatArray, b: FloatArray) -> None:
    if a.size == 0 or b.size == 0:
        raise InvalidInput(
            f"both samples must hold at least one finite value; got {a.size} and {b.size} values",
        )


def ks_2samp_sorted(a: FloatArray, b: FloatArray) -> tuple[float, float]:
    """Two-sided two-sample Kolmogorov-Smirnov test on sorted samples.

    Same statistic and p-value as ``scipy.stats.ks_2samp(a, b)``: below
    :data:`EXACT_KS_MAX_N` values per sample SciPy is called (exact p-value); above it the
    statistic is computed here from the sorted arrays and the p-value is Smirnov's asymptotic
    ``kstwo.sf(D, round(n*m/(n+m)))``, exactly as SciPy does for large samples.

    Args:
        a: Sorted finite values of the first sample.
        b: Sorted finite values of the second sample.

    Returns:
        ``(statistic, p_value)``.
    """
    from scipy import stats

    _check_sorted_pair(a, b)
    n, m = a.size, b.size
    if max(n, m) <= EXACT_KS_MAX_N:
        res = stats.ks_2samp(a, b)
        return float(res.statistic), float(res.pvalue)
    # Right-continuous CDFs evaluated at every data point; the supremum is reached there.
    fa_a = _right_ranks(a) / n
    fb_a = np.searchsorted(b, a, side="right") / m
    d_a = float(np.max(np.abs(fa_a - fb_a)))
    del fa_a, fb_a
    fa_b = np.searchsorted(a, b, side="right") / n
    fb_b = _right_ranks(b) / m
    d_b = float(np.max(np.abs(fa_b - fb_b)))
    d = max(d_a, d_b)
    big, small = max(float(n), float(m)), min(float(n), float(m))
    en = big * small / (big + small)
    p = float(stats.kstwo.sf(d, np.round(en)))
    return d, min(max(p, 0.0), 1.0)


def _right_ranks(x: FloatArray) -> NDArray[np.int64]:
    """Number of values <= x[i] for each i of a sorted array (ties share the last rank)."""
    if x.size < 2 or bool(np.all(x[1:] > x[:-1])):
        return np.arange(1, x.size + 1, dtype=np.int64)
    return np.searchsorted(x, x, side="right").astype(np.int64)


def wasserstein_sorted(a: FloatArray, b: FloatArray) -> float:
    """First Wasserstein (earth mover's) distance between two sorted samples.

    Equal to ``scipy.stats.wasserstein_distance(a, b)``. Computed as the integral of
    ``|Q_a(u) - Q_b(u)|`` over ``u`` in ``[0, 1]``, where ``Q`` are the empirical quantile
    functions (step functions with steps at ``i/n`` and ``j/m``). With ``n >= m`` each of the
    larger sample's steps overlaps at most two steps of the other, so the integral is two
    weighted sums over ``n`` terms: linear time, no sort or search, exact integer widths on the
    scale ``n*m``. Processed in blocks that stay in the CPU cache.

    Args:
        a: Sorted finite values of the first sample.
        b: Sorted finite values of the second sample.
    """
    _check_sorted_pair(a, b)
    if a.size < b.size:
        a, b = b, a
    n, m = a.size, b.size
    if n == m:
        return float(np.mean(np.abs(a - b)))
    if m * 8 <= n:
        return _wasserstein_few_steps(a, b)
    total = 0.0
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        # Step i of a covers [i*m, (i+1)*m] on the n*m scale; step j of b covers [j*n, (j+1)*n].
        start = np.arange(lo, hi, dtype=np.int64)
        start *= m
        j = start // n
        first = (j + 1) * n - start
        np.minimum(first, m, out=first)
        block = a[lo:hi]
        total += _dot(np.abs(block - b[j]), first.astype(np.float64))
        second = (m - first).astype(np.float64)
        np.minimum(j + 1, m - 1, out=j)
        total += _dot(np.abs(block - b[j]), second)
    return total / (float(n) * float(m))


#: Rows per block in :func:`wasserstein_sorted` (a few hundred KiB of temporaries).
_BLOCK = 1 << 16


def _wasserstein_few_steps(a: FloatArray, b: FloatArray) -> float:
    """Wasserstein distance when ``b`` is much smaller than ``a`` (a profile's sample).

    Same integral as :func:`wasserstein_sorted`, summed per step of ``b`` instead: the steps of
    ``a`` wholly inside step ``j`` contribute ``m * sum(|a_i - b_j|)``, read off prefix sums of
    ``a`` split at ``b_j``; the (at most two) steps of ``a`` straddling its edges contribute
    their overlap. One pass over ``a`` (the prefix sum), then work in ``m``.
    """
    n, m = a.size, b.size
    # Prefix sums of values centred on the median keep the differences of large sums exact
    # enough (error ~ m * eps relative to the spread) even for data far from 0.
    center = float(a[n // 2])
    prefix = np.empty(n + 1, dtype=np.float64)
    prefix[0] = 0.0
    np.cumsum(a - center, out=prefix[1:])
    bc = b - center
    j = np.arange(m, dtype=np.int64)
    left = j * n  # step j of b covers [j*n, (j+1)*n) on the n*m scale; step i of a [i*m, ...)
    right = left + n
    i_lo = -(-left // m)  # first a-step wholly inside
    i_hi = right // m  # one past the last
    k = np.clip(np.searchsorted(a, b, side="left"), i_lo, i_hi)
    inside = (
        bc * (k - i_lo) - (prefix[k] - prefix[i_lo]) + (prefix[i_hi] - prefix[k]) - bc * (i_hi - k)
    )
    total = float(m) * float(np.sum(inside))
    w_left = i_lo * m - left
    has = w_left > 0
    total += _dot(w_left[has].astype(np.float64), np.abs(a[i_lo[has] - 1] - b[has]))
    w_right = right - i_hi * m
    has = w_right > 0
    total += _dot(w_right[has].astype(np.float64), np.abs(a[i_hi[has]] - b[has]))
    return total / (float(n) * float(m))


def quantile_edges(reference: FloatArray, bins: int) -> FloatArray:
    """Inner bin edges at the reference's quantiles ``1/bins, ..., (bins-1)/bins``.

    Duplicate edges (discrete data) are dropped, so fewer bins may result. Values equal to an
    edge fall in the lower bin (see :func:`bin_counts_sorted`).

    Args:
        reference: Sorted finite reference values.
        bins: Number of bins wanted (>= 2).
    """
    if bins < 2:
        raise InvalidInput(f"bins must be at least 2, got {bins}")
    if reference.size == 0:
        return np.empty(0, dtype=np.float64)
    qs = np.arange(1, bins, dtype=np.float64) / bins
    edges = np.quantile(reference, qs)
    return np.unique(edges)


def bin_counts_sorted(values: FloatArray, inner_edges: FloatArray) -> NDArray[np.int64]:
    """Counts of sorted ``values`` in the bins ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
    cuts = np.searchsorted(values, inner_edges, side="right")
    bounds = np.concatenate(([0], cuts, [values.size])).astype(np.int64)
    return np.diff(bounds)


def psi(reference_counts: ArrayLike, current_counts: ArrayLike, *, eps: float = 1e-4) -> float:
    """Population Stability Index between two binned distributions.

    ``PSI = sum((c - r) * ln(c / r))`` over bins, with ``r`` and ``c`` the reference and current
    fractions. Empty bins get the fraction ``eps`` instead of 0 (as common PSI tooling does) so
    the index stays finite; that is the only deviation from the symmetrised KL divergence.

    Args:
        reference_counts: Counts (or fractions) per bin in the reference.
        current_counts: Counts (or fractions) per bin in the current window, same bins.
        eps: Fraction used for empty bins.
    """
    r = _fractions(reference_counts)
    c = _fractions(current_counts)
    if r.shape != c.shape:
        raise InvalidInput(f"PSI needs the same bins on both sides; got {r.size} and {c.size}")
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r)))


def _fractions(counts: ArrayLike) -> FloatArray:
    arr = np.asarray(counts, dtype=np.float64)
    total = float(arr.sum())
    if total <= 0:
        raise InvalidInput("a distribution needs a positive total count")
    out: FloatArray = arr / total
    return out


def jensenshannon_counts(
    reference_counts: ArrayLike, current_counts: ArrayLike, *, base: float = 2.0
) -> float:
    """Jensen-Shannon **distance** (square root of the divergence) between two count vectors.

    Equal to ``scipy.spatial.distance.jensenshannon(r, c, base=base)``, computed with the same
    ``scipy.special.rel_entr`` kernel; with ``base=2`` the result lies in ``[0, 1]`` (0: same
    distribution, 1: disjoint supports).
    """
    from scipy.special import rel_entr

    r = _fractions(reference_counts)
    c = _fractions(current_counts)
    if r.shape != c.shape:
        raise InvalidInput(
            f"Jensen-Shannon needs the same categories on both sides; got {r.size} and {c.size}"
        )
    m = (r + c) / 2.0
    divergence = float(np.sum(rel_entr(r, m)) + np.sum(rel_entr(c, m))) / np.log(base)
    return float(np.sqrt(max(divergence, 0.0) / 2.0))


def chi2_counts(reference_counts: ArrayLike, current_counts: ArrayLike) -> tuple[float, float]:
    """Chi-square test of homogeneity: do two windows share one categorical distribution?

    Builds the 2 x K contingency table (categories seen in neither window are dropped) and calls
    ``scipy.stats.chi2_contingency`` with its defaults (Yates' correction when it has one degree
    of freedom). Categories present in only one window are handled naturally, unlike a
    goodness-of-fit test against reference proportions, which is infinite for a new category.

    Returns:
        ``(statistic, p_value)``; ``(0.0, 1.0)`` when only one category occurs at all.
    """
    from scipy import stats

    table = np.vstack(
        [np.asarray(reference_counts, dtype=np.float64), np.asarray(current_counts, np.float64)]
    )
    if table.ndim != 2 or table.shape[0] != 2:
        raise InvalidInput("chi-square needs two count vectors of the same length")
    if np.any(table.sum(axis=1) <= 0):
        raise InvalidInput("chi-square needs at least one value in each window")
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    res = stats.chi2_contingency(table)
    return float(res.statistic), float(res.pvalue)


def adjust_p_values(p_values: Sequence[float] | FloatArray, method: str) -> FloatArray:
    """Adjust p-values for testing many columns at once.

    Compare the adjusted values with the significance level ``alpha``:

    - ``"bonferroni"``: ``min(1, p * m)``; controls the family-wise error rate (the chance of
      flagging *any* unchanged column) at ``alpha``.
    - ``"holm"``: Holm's step-down version of Bonferroni; same guarantee, never less powerful.
    - ``"bh"`` / ``"by"``: Benjamini-Hochberg / Benjamini-Yekutieli (``scipy.stats.
      false_discovery_control``); controls the expected share of false alarms among flagged
      columns, more powerful when many columns really drift.
    - ``"none"``: the raw p-values (each column at ``alpha`` on its own; with 25 columns about
      one unchanged column in 1.3 runs is flagged).

    Args:
        p_values: One p-value per tested column.
        method: One of :data:`CORRECTIONS`.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if method not in CORRECTIONS:
        raise InvalidInput(
            f"unknown p-value correction {method!r}; use one of {', '.join(CORRECTIONS)}"
        )
    if p.size == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * p.size, 1.0)
    if method == "holm":
        order = np.argsort(p, kind="stable")
        factors = np.arange(p.size, 0, -1, dtype=np.float64)
        stepped = np.maximum.accumulate(np.minimum(p[order] * factors, 1.0))
        out = np.empty_like(p)
        out[order] = stepped
        return out
    from scipy import stats

    return np.asarray(stats.false_discovery_control(p, method=method), dtype=np.float64)
