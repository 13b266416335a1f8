"""Merge two dataset profiles into the profile of their rows together, without the data.

Typical use: hourly window profiles into a daily one.
Exact for counts, nulls, min, max, histograms and listed category counts of complete
categorical summaries; mean and standard deviation are combined exactly up to rounding. The
merged numeric sample is a uniform random sample of the union (hypergeometric split between the
two samples), so it is *a* valid sample of the union, not the one profiling the concatenated
table would pick.
"""

from __future__ import annotations

import math

import numpy as np

from modelward.errors import InvalidInput
from modelward.profiling._sketch import GridHistogram
from modelward.profiling.entities import (
    CategoricalSummary,
    ColumnKind,
    ColumnProfile,
    DatasetProfile,
    Histogram,
    NumericSummary,
    quantiles_of,
)

__all__ = ["merge_profiles"]


def merge_profiles(a: DatasetProfile, b: DatasetProfile, *, seed: int = 0) -> DatasetProfile:
    """Return the profile of the rows of ``a`` and ``b`` together.

    Args:
        a: First profile.
        b: Second profile, with the same columns and column kinds.
        seed: Seed for the random split of the merged numeric sample.

    Raises:
        InvalidInput: The profiles' columns or column kinds differ.
    """
    if a.names != b.names:
        raise InvalidInput(
            f"cannot merge profiles with different columns: {list(a.names)} vs {list(b.names)}"
        )
    rng = np.random.default_rng(seed)
    sample_size = min(a.sample_size, b.sample_size) or max(a.sample_size, b.sample_size)
    max_categories = min(a.max_categories, b.max_categories) or max(
        a.max_categories, b.max_categories
    )
    bins = max(a.histogram_bins, b.histogram_bins)
    columns = []
    for ca, cb in zip(a.columns, b.columns, strict=True):
        if ca.kind is not cb.kind:
            raise InvalidInput(
                f"cannot merge column {ca.name!r}: {ca.kind.value} ({ca.dtype}) in one profile, "
                f"{cb.kind.value} ({cb.dtype}) in the other"
            )
        numeric = categorical = None
        if ca.kind is ColumnKind.NUMERIC:
            assert ca.numeric is not None
            assert cb.numeric is not None
            numeric = _merge_numeric(ca, cb, sample_size, bins, rng)
        elif ca.kind is ColumnKind.CATEGORICAL:
            assert ca.categorical is not None
            assert cb.categorical is not None
            categorical = _merge_categorical(ca.categorical, cb.categorical, max_categories)
        columns.append(
            ColumnProfile(
                name=ca.name,
                dtype=ca.dtype,
                nullable=ca.nullable or cb.nullable,
                kind=ca.kind,
                count=ca.count + cb.count,
                nulls=ca.nulls + cb.nulls,
                numeric=numeric,
                categorical=categorical,
            )
        )
    return DatasetProfile(
        row_count=a.row_count + b.row_count,
        columns=tuple(columns),
        sample_size=sample_size,
        max_categories=max_categories,
        histogram_bins=bins,
    )


def _merge_numeric(
    ca: ColumnProfile, cb: ColumnProfile, k: int, bins: int, rng: np.random.Generator
) -> NumericSummary:
    sa, sb = ca.numeric, cb.numeric
    assert sa is not None
    assert sb is not None
    na, nb = ca.count - sa.infinite, cb.count - sb.infinite
    if na == 0 or sa.mean is None:
        return _with_infinite(sb, sa.infinite)
    if nb == 0 or sb.mean is None:
        return _with_infinite(sa, sb.infinite)
    assert sa.std is not None
    assert sb.std is not None
    n = na + nb
    delta = sb.mean - sa.mean
    mean = sa.mean + delta * nb / n
    m2 = sa.std**2 * na + sb.std**2 * nb + delta * delta * na * nb / n
    lo = min(_req(sa.min), _req(sb.min))
    hi = max(_req(sa.max), _req(sb.max))
    # Regridding only ever widens bins, so integer columns keep bins at least 1 wide.
    hist = GridHistogram.from_edges(
        sa.histogram.edges, sa.histogram.counts, bins, lo=_req(sa.min), hi=_req(sa.max)
    )
    hist.add_histogram(
        GridHistogram.from_edges(
            sb.histogram.edges, sb.histogram.counts, bins, lo=_req(sb.min), hi=_req(sb.max)
        )
    )
    edges, counts = hist.edges_and_counts()
    # Uniform sample of the union: how many come from a is hypergeometric, then a uniform
    # subset of each side's (itself uniform) sample.
    target = min(k, n)
    take_a = int(rng.hypergeometric(na, nb, target)) if target < n else na
    take_a = min(take_a, sa.sample.size)
    take_b = min(target - take_a, sb.sample.size)
    part_a = rng.choice(sa.sample, size=take_a, replace=False) if take_a else sa.sample[:0]
    part_b = rng.choice(sb.sample, size=take_b, replace=False) if take_b else sb.sample[:0]
    sample = np.sort(np.concatenate((part_a, part_b)))
    quantile_levels = tuple(q for q, _ in sa.quantiles) or tuple(q for q, _ in sb.quantiles)
    return NumericSummary(
        min=lo,
        max=hi,
        mean=mean,
        std=math.sqrt(max(m2, 0.0) / n),
        infinite=sa.infinite + sb.infinite,
        quantiles=quantiles_of(sample, quantile_levels),
        histogram=Histogram(edges=edges, counts=counts),
        sample=sample,
        sample_exact=sa.sample_exact and sb.sample_exact and sample.size == n,
    )


def _req(value: float | None) -> float:
    assert value is not None
    return value


def _with_infinite(summary: NumericSummary, extra: int) -> NumericSummary:
    return NumericSummary(
        min=summary.min,
        max=summary.max,
        mean=summary.mean,
        std=summary.std,
        infinite=summary.infinite + extra,
        quantiles=summary.quantiles,
        histogram=summary.histogram,
        sample=summary.sample,
        sample_exact=summary.sample_exact,
    )


def _merge_categorical(
    a: CategoricalSummary, b: CategoricalSummary, max_categories: int
) -> CategoricalSummary:
    counts: dict[str, int] = dict(a.top)
    for value, count in b.top:
        counts[value] = counts.get(value, 0) + count
    total = sum(c for _, c in a.top) + a.other_count + sum(c for _, c in b.top) + b.other_count
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = tuple(ranked[:max_categories])
    # A value listed on one side may hide in the other side's "other" bucket, with at most that
    # side's smallest listed count.
    error = a.count_error + b.count_error
    if not a.complete and a.top:
        error += a.top[-1][1]
    if not b.complete and b.top:
        error += b.top[-1][1]
    exact = a.cardinality_exact and b.cardinality_exact and a.complete and b.complete
    cardinality = len(counts) if exact else max(a.cardinality, b.cardinality, len(counts))
    return CategoricalSummary(
        top=top,
        other_count=total - sum(c for _, c in top),
        cardinality=cardinality,
        cardinality_exact=exact,
        count_error=error,
    )
