"""The batch-invariant sample and histogram behind numeric profiles."""

from __future__ import annotations

import math

import numpy as np

from modelward.profiling._sketch import BottomKSample, GridHistogram, row_keys


def test_row_keys_are_distinct_and_position_based() -> None:
    keys = row_keys(0, 100_000)
    assert np.unique(keys).size == keys.size
    assert np.array_equal(row_keys(500, 10), keys[500:510])


def test_bottom_k_keeps_the_smallest_keys_whatever_the_order() -> None:
    keys = row_keys(0, 10_000)
    values = np.arange(10_000, dtype=np.float64)
    one = BottomKSample(100)
    one.add(keys, values)
    parts = BottomKSample(100)
    for lo in range(0, 10_000, 777):
        parts.add(keys[lo : lo + 777], values[lo : lo + 777])
    assert np.array_equal(one.sorted_values(), parts.sorted_values())
    expected = np.sort(values[np.argsort(keys)[:100]])
    assert np.array_equal(one.sorted_values(), expected)


def test_grid_histogram_is_batch_invariant_and_exact() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.01, 500), rng.normal(0, 100, 500)])
    whole = GridHistogram(32)
    whole.add(x, float(x.min()), float(x.max()))
    parts = GridHistogram(32)
    for chunk in np.array_split(x, 13):  # narrow values first, then the grid must widen
        parts.add(chunk, float(chunk.min()), float(chunk.max()))
    assert whole.edges_and_counts() == parts.edges_and_counts()
    edges, counts = whole.edges_and_counts()
    assert sum(counts) == x.size
    width = edges[1] - edges[0]
    assert math.frexp(width)[0] == 0.5  # a power of two
    assert np.array_equal(np.histogram(x, bins=np.asarray(edges))[0], counts)


def test_grid_histogram_merge_equals_one_pass() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 1000), rng.normal(50, 5, 1000)
    ha, hb, hab = GridHistogram(16), GridHistogram(16), GridHistogram(16)
    ha.add(a, float(a.min()), float(a.max()))
    hb.add(b, float(b.min()), float(b.max()))
    ab = np.concatenate([a, b])
    hab.add(ab, float(ab.min()), float(ab.max()))
    ha.add_histogram(hb)
    assert ha.edges_and_counts() == hab.edges_and_counts()


def test_constant_values_get_one_narrow_bin() -> None:
    h = GridHistogram(8)
    h.add(np.full(5, 7.0), 7.0, 7.0)
    edges, counts = h.edges_and_counts()
    assert counts == (5,)
    assert edges[0] <= 7.0 < edges[1]
