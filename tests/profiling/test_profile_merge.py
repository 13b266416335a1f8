"""Merging profiles of two tables gives the profile of their rows together."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from modelward.errors import InvalidInput
from modelward.profiling import merge_profiles, profile_table


def _tables() -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(0)
    a = pa.table({"x": rng.normal(0, 1, 30_000), "c": rng.choice(["a", "b"], 30_000)})
    b = pa.table({"x": rng.normal(3, 2, 10_000), "c": rng.choice(["b", "z"], 10_000)})
    return a, b


def test_merge_matches_profile_of_concatenation() -> None:
    a, b = _tables()
    merged = merge_profiles(profile_table(a), profile_table(b))
    whole = profile_table(pa.concat_tables([a, b]))
    assert merged.row_count == 40_000
    mx, wx = merged.column("x"), whole.column("x")
    assert (mx.count, mx.nulls) == (wx.count, wx.nulls)
    assert mx.numeric is not None
    assert wx.numeric is not None
    assert (mx.numeric.min, mx.numeric.max) == (wx.numeric.min, wx.numeric.max)
    assert mx.numeric.mean == pytest.approx(wx.numeric.mean, rel=1e-12)
    assert mx.numeric.std == pytest.approx(wx.numeric.std, rel=1e-12)
    assert mx.numeric.histogram == wx.numeric.histogram
    assert mx.numeric.sample.size == 4096
    # About a quarter of the merged sample comes from b (10k of 40k rows).
    from_b = np.count_nonzero(mx.numeric.sample > 2.0)
    assert 0.15 < from_b / 4096 < 0.35
    assert merged.column("c").categorical == whole.column("c").categorical


def test_merge_is_seeded() -> None:
    a, b = _tables()
    pa_, pb = profile_table(a), profile_table(b)
    assert pa_.merge(pb, seed=3) == pa_.merge(pb, seed=3)


def test_merge_of_small_profiles_stays_exact() -> None:
    a = pa.table({"x": [1.0, 2.0]})
    b = pa.table({"x": [3.0]})
    merged = merge_profiles(profile_table(a), profile_table(b)).column("x").numeric
    assert merged is not None
    assert merged.sample.tolist() == [1.0, 2.0, 3.0]
    assert merged.sample_exact


def test_merge_rejects_other_columns_or_kinds() -> None:
    x = profile_table(pa.table({"x": [1.0]}))
    with pytest.raises(InvalidInput, match="different columns"):
        merge_profiles(x, profile_table(pa.table({"y": [1.0]})))
    with pytest.raises(InvalidInput, match=r"cannot merge column 'x': numeric \(double\)"):
        merge_profiles(x, profile_table(pa.table({"x": ["s"]})))
