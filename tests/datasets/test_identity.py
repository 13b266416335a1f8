"""The content digest: same data means same digest, whatever the batching or the format."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from modelward.datasets.identity import ContentHasher, logical_type


def _digest(*batches: pa.RecordBatch | pa.Table) -> str:
    hasher = ContentHasher()
    for batch in batches:
        hasher.update(batch)
    return hasher.hexdigest()


TABLE = pa.table(
    {
        "i": pa.array([1, None, 3, 4], pa.int64()),
        "f": [0.5, 1.5, None, -2.0],
        "s": ["a", "", None, "dd"],
        "b": [True, None, False, True],
        "t": pa.array([dt.datetime(2024, 1, d) for d in range(1, 5)], pa.timestamp("us")),
        "d": pa.array([dt.date(2024, 1, 1)] * 4, pa.date32()),
        "l": [[1], [], None, [2, 3]],
    }
)


def test_digest_does_not_depend_on_batching() -> None:
    whole = _digest(TABLE)
    assert _digest(*TABLE.to_batches(max_chunksize=1)) == whole
    assert _digest(TABLE.slice(0, 3), TABLE.slice(3)) == whole
    assert _digest(TABLE.combine_chunks()) == whole


def test_large_and_dictionary_variants_hash_like_their_logical_type() -> None:
    plain = pa.table({"s": ["a", "b", "a", None]})
    large = pa.table({"s": pa.array(["a", "b", "a", None], pa.large_string())})
    encoded = pa.table({"s": pa.array(["a", "b", "a", None]).dictionary_encode()})
    assert _digest(plain) == _digest(large) == _digest(encoded)
    assert logical_type(pa.large_string()) == "string"
    assert logical_type(encoded.schema.field("s").type) == "string"


@pytest.mark.parametrize(
    "other",
    [
        pa.table({"x": [1, 2]}),  # another name
        pa.table({"a": [1.0, 2.0]}),  # another type
        pa.table({"a": [2, 1]}),  # another order
        pa.table({"a": [1, None]}),  # a missing value where a value was
        pa.table({"a": [1, 0]}),  # zero is not missing
        pa.table({"a": [1, 2], "b": [0, 0]}),  # an extra column
        pa.table({"a": [1, 2, 3]}),  # an extra row
    ],
)
def test_any_change_changes_the_digest(other: pa.Table) -> None:
    assert _digest(pa.table({"a": [1, 2]})) != _digest(other)


def test_empty_string_is_not_missing_and_strings_do_not_run_together() -> None:
    assert _digest(pa.table({"s": ["", "x"]})) != _digest(pa.table({"s": [None, "x"]}))
    assert _digest(pa.table({"s": ["ab", "c"]})) != _digest(pa.table({"s": ["a", "bc"]}))


def test_sliced_arrays_hash_their_own_values() -> None:
    big = pa.table({"i": list(range(10)), "s": [str(i) for i in range(10)]})
    assert _digest(big.slice(4, 3)) == _digest(pa.table({"i": [4, 5, 6], "s": ["4", "5", "6"]}))
