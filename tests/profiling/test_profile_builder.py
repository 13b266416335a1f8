"""ProfileBuilder and profile_table: statistics, streaming = one-shot, faults."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelward.errors import InvalidInput
from modelward.profiling import ColumnKind, ProfileBuilder, profile_table


def _table(n: int = 20_000, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0, 2.0, n)
    x[::97] = np.nan
    ints = rng.integers(-50, 50, n)
    cats = np.array(["red", "green", "blue", "white"])[rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])]
    mask = rng.random(n) < 0.05
    return pa.table(
        {
            "x": pa.array(x, from_pandas=True),
            "i": pa.array(ints),
            "color": pa.array(np.where(mask, None, cats).tolist(), type=pa.string()),
            "flag": pa.array(rng.random(n) < 0.3),
            "ts": pa.array(np.arange(n).astype("datetime64[s]")),
        }
    )


def test_numeric_statistics_match_numpy() -> None:
    table = _table()
    prof = profile_table(table, sample_size=100_000)
    col = prof.column("x")
    x = table.column("x").to_numpy(zero_copy_only=False)
    finite = x[np.isfinite(x)]
    assert col.kind is ColumnKind.NUMERIC
    assert col.dtype == "double"
    assert col.nulls == int(np.isnan(x).sum())
    assert col.count == finite.size
    s = col.numeric
    assert s is not None
    assert s.min == finite.min()
    assert s.max == finite.max()
    assert s.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert s.std == pytest.approx(finite.std(), rel=1e-12)
    # The sample holds every value here, so quantiles are NumPy's exactly.
    assert s.sample_exact
    for q, v in s.quantiles:
        assert v == pytest.approx(np.quantile(finite, q), rel=1e-12)
    assert [q for q, _ in s.quantiles] == [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
    edges, counts = np.asarray(s.histogram.edges), np.asarray(s.histogram.counts)
    assert counts.sum() == finite.size
    assert np.array_equal(counts, np.histogram(finite, bins=edges)[0])


def test_histogram_width_is_power_of_two_and_integer_bins_at_least_one() -> None:
    prof = profile_table(pa.table({"i": pa.array([0, 1, 2, 3, 3, 3])}))
    hist = prof.column("i").numeric.histogram  # type: ignore[union-attr]
    widths = np.diff(hist.edges)
    assert np.all(widths == 1.0)
    assert hist.counts == (1, 1, 1, 3)


def test_categorical_summary_counts_top_and_other() -> None:
    table = _table()
    prof = profile_table(table, max_categories=2)
    col = prof.column("color")
    assert col.kind is ColumnKind.CATEGORICAL
    cats = col.categorical
    assert cats is not None
    values = [v for v in table.column("color").to_pylist() if v is not None]
    assert [v for v, _ in cats.top] == ["red", "green"]
    assert dict(cats.top)["red"] == values.count("red")
    assert cats.other_count == values.count("blue") + values.count("white")
    assert cats.cardinality == 4
    assert col.nulls == table.column("color").null_count
    assert not cats.complete


def test_bool_is_categorical_and_timestamp_is_other() -> None:
    prof = profile_table(_table())
    flag = prof.column("flag")
    assert flag.kind is ColumnKind.CATEGORICAL
    assert {v for v, _ in flag.categorical.top} == {"true", "false"}  # type: ignore[union-attr]
    ts = prof.column("ts")
    assert ts.kind is ColumnKind.OTHER
    assert ts.count == 20_000
    assert ts.numeric is None


def test_forced_categorical_integer_codes() -> None:
    prof = profile_table(pa.table({"code": pa.array([1, 2, 2, 3])}), categorical=["code"])
    col = prof.column("code")
    assert col.kind is ColumnKind.CATEGORICAL
    assert col.categorical.top == (("2", 2), ("1", 1), ("3", 1))  # type: ignore[union-attr]


def test_dictionary_column_counts_without_decoding() -> None:
    arr = pa.array(["a", "b", None, "a", "c", "a"]).dictionary_encode()
    prof = profile_table(pa.table({"d": arr}))
    col = prof.column("d")
    assert col.categorical.top == (("a", 3), ("b", 1), ("c", 1))  # type: ignore[union-attr]
    assert col.nulls == 1


def test_streaming_equals_one_shot() -> None:
    table = _table(30_000)
    one = profile_table(table, sample_size=512, max_categories=3)
    builder = ProfileBuilder(sample_size=512, max_categories=3)
    for batch in table.to_batches(max_chunksize=4_321):
        builder.update(batch)
    streamed = builder.finish()
    assert streamed.row_count == one.row_count == 30_000
    for a, b in zip(one.columns, streamed.columns, strict=True):
        assert (a.count, a.nulls, a.kind, a.dtype) == (b.count, b.nulls, b.kind, b.dtype)
        assert a.categorical == b.categorical
        if a.numeric is not None:
            assert b.numeric is not None
            # Sample and histogram do not depend on batching at all.
            assert np.array_equal(a.numeric.sample, b.numeric.sample)
            assert a.numeric.histogram == b.numeric.histogram
            assert a.numeric.quantiles == b.numeric.quantiles
            assert (a.numeric.min, a.numeric.max) == (b.numeric.min, b.numeric.max)
            assert a.numeric.mean == pytest.approx(b.numeric.mean, rel=1e-12)
            assert a.numeric.std == pytest.approx(b.numeric.std, rel=1e-12)


def test_pandas_chunks_equal_arrow_table() -> None:
    table = _table(5_000).drop_columns(["ts"])
    df = table.to_pandas()
    builder = ProfileBuilder()
    for start in range(0, len(df), 1_000):
        builder.update(df.iloc[start : start + 1_000])
    from_pandas = builder.finish()
    from_arrow = profile_table(table)
    for a, b in zip(from_arrow.columns, from_pandas.columns, strict=True):
        assert (a.count, a.nulls) == (b.count, b.nulls)
        assert a.categorical == b.categorical
        if a.numeric is not None:
            assert b.numeric is not None
            assert np.array_equal(a.numeric.sample, b.numeric.sample)


def test_memory_is_bounded_by_sample_size() -> None:
    rng = np.random.default_rng(3)
    builder = ProfileBuilder(sample_size=64)
    for _ in range(10):
        builder.update(pa.table({"x": rng.normal(size=10_000)}))
    col = builder.finish().column("x")
    assert col.numeric.sample.size == 64  # type: ignore[union-attr]
    assert not col.numeric.sample_exact  # type: ignore[union-attr]
    assert col.count == 100_000


def test_sample_is_uniform() -> None:
    from scipy import stats

    rng = np.random.default_rng(4)
    x = rng.exponential(size=200_000)
    sample = profile_table(pa.table({"x": x})).column("x").numeric.sample  # type: ignore[union-attr]
    assert sample.size == 4096
    # A uniform sample is a sample of the same distribution: KS must not reject it.
    assert stats.ks_2samp(sample, x).pvalue > 0.01


def test_high_cardinality_is_capped_with_other_bucket() -> None:
    n = 50_000
    values = [f"id-{i}" for i in range(n)] + ["hot"] * 5_000
    builder = ProfileBuilder(max_categories=10)
    for start in range(0, len(values), 7_000):
        builder.update(pa.table({"id": pa.array(values[start : start + 7_000])}))
    cats = builder.finish().column("id").categorical
    assert cats is not None
    assert len(cats.top) == 10
    assert cats.top[0] == ("hot", 5_000)
    assert cats.other_count == n + 5_000 - sum(c for _, c in cats.top)
    assert not cats.cardinality_exact
    assert cats.cardinality >= 100  # a lower bound once values were dropped
    assert not cats.complete


def test_nan_null_and_infinite_are_counted_apart() -> None:
    arr = pa.array([1.0, None, float("nan"), float("inf"), -float("inf"), 3.0], from_pandas=False)
    col = profile_table(pa.table({"x": arr})).column("x")
    assert col.nulls == 2  # null and NaN
    assert col.count == 4
    s = col.numeric
    assert s is not None
    assert s.infinite == 2
    assert (s.min, s.max, s.mean) == (1.0, 3.0, 2.0)
    assert s.sample.tolist() == [1.0, 3.0]


def test_all_null_and_constant_columns() -> None:
    table = pa.table(
        {
            "none": pa.array([None, None, None], type=pa.float64()),
            "const": pa.array([5.0, 5.0, 5.0]),
            "null_typed": pa.array([None, None, None]),
        }
    )
    prof = profile_table(table)
    none = prof.column("none")
    assert (none.count, none.nulls) == (0, 3)
    assert none.numeric is not None
    assert none.numeric.min is None
    assert none.numeric.histogram.counts == ()
    const = prof.column("const").numeric
    assert const is not None
    assert (const.min, const.max, const.std) == (5.0, 5.0, 0.0)
    assert const.histogram.counts == (3,)
    assert prof.column("null_typed").kind is ColumnKind.OTHER


def test_null_typed_first_batch_takes_the_type_of_later_values() -> None:
    builder = ProfileBuilder()
    builder.update(pd.DataFrame({"x": [None, None]}))
    builder.update(pd.DataFrame({"x": [1.5, 2.5]}))
    col = builder.finish().column("x")
    assert col.kind is ColumnKind.NUMERIC
    assert (col.count, col.nulls) == (2, 2)


def test_empty_builder_gives_empty_profile() -> None:
    prof = ProfileBuilder().finish()
    assert prof.row_count == 0
    assert prof.columns == ()


def test_batches_must_keep_columns_and_kinds() -> None:
    builder = ProfileBuilder().update(pa.table({"a": [1.0], "b": ["x"]}))
    with pytest.raises(InvalidInput, match=r"batch 2 has no column 'b'"):
        builder.update(pa.table({"a": [2.0]}))
    with pytest.raises(InvalidInput, match=r"column 'a' is numeric \(double\) in the first batch"):
        builder.update(pa.table({"a": ["text"], "b": ["y"]}))


def test_bad_input_and_options_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="must be a pyarrow Table or RecordBatch or a pandas"):
        ProfileBuilder().update({"a": [1]})
    with pytest.raises(InvalidInput, match="sample_size must be at least 16"):
        ProfileBuilder(sample_size=1)
    with pytest.raises(InvalidInput, match=r"has no column\(s\) 'zz'"):
        profile_table(pa.table({"a": [1]}), columns=["zz"])
    with pytest.raises(InvalidInput, match="duplicate column names: a"):
        profile_table(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_mixed_object_column_is_profiled_as_strings() -> None:
    df = pd.DataFrame({"m": [1, "a", None, 2.5]})
    col = profile_table(df).column("m")
    assert col.kind is ColumnKind.CATEGORICAL
    assert col.nulls == 1
    assert {v for v, _ in col.categorical.top} == {"1", "a", "2.5"}  # type: ignore[union-attr]


def test_profile_from_record_batch_reader() -> None:
    table = _table(3_000)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=500))
    streamed = profile_table(reader).column("x").numeric
    whole = profile_table(table).column("x").numeric
    assert streamed is not None
    assert whole is not None
    assert np.array_equal(streamed.sample, whole.sample)
    assert streamed.histogram == whole.histogram
    assert streamed.mean == pytest.approx(whole.mean, rel=1e-12)
