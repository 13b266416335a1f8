"""Turn user data into Arrow tables and column values, shared by profiling and monitoring.

Accepted inputs everywhere: ``pyarrow.Table``, ``pyarrow.RecordBatch`` and ``pandas.DataFrame``
(converted once, without its index). pyarrow and pandas are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from modelward.errors import InvalidInput
from modelward.profiling.entities import ColumnKind

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["category_counts", "column_kind", "is_dataframe", "numeric_values", "to_table"]


def is_dataframe(data: Any) -> bool:
    """Whether ``data`` is a pandas DataFrame (checked without importing pandas)."""
    return type(data).__name__ == "DataFrame" and type(data).__module__.startswith("pandas")


def to_table(data: Any, *, what: str = "data") -> pa.Table:
    """Return ``data`` as a ``pyarrow.Table``.

    Args:
        data: A ``pyarrow.Table``, ``pyarrow.RecordBatch`` or ``pandas.DataFrame``.
        what: How to name ``data`` in error messages (e.g. ``"current window"``).

    Raises:
        InvalidInput: Another type, or duplicate column names.
    """
    import pyarrow as pa

    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif is_dataframe(data):
        table = _from_pandas(data)
    else:
        raise InvalidInput(
            f"{what} must be a pyarrow Table or RecordBatch or a pandas DataFrame, "
            f"not {type(data).__name__}"
        )
    names = table.column_names
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(f"{what} has duplicate column names: {', '.join(dupes)}; rename them")
    return table


def _from_pandas(df: Any) -> pa.Table:
    import pyarrow as pa

    frame = df
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(f"data has duplicate column names: {', '.join(dupes)}; rename them")
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    # One column mixes types (e.g. numbers and strings in an object column): convert column by
    # column and keep such a column as strings, so it is reported, not fatal.
    arrays = []
    for name in frame.columns:
        series = frame[name]
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            values = [None if _is_missing(v) else str(v) for v in series.tolist()]
            arrays.append(pa.array(values, type=pa.string()))
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def column_kind(arrow_type: pa.DataType, *, categorical: bool = False) -> ColumnKind:
    """Classify an Arrow type.

    Integers, floats and decimals are numeric; strings, booleans and dictionaries are
    categorical; anything else (timestamps, binary, nested, null) is ``other``. With
    ``categorical=True`` a numeric (or other) column is treated as categorical, its values
    compared as strings.
    """
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_dictionary(t) or pa.types.is_boolean(t) or _is_string(t):
        return ColumnKind.CATEGORICAL
    if categorical and not pa.types.is_null(t):
        return ColumnKind.CATEGORICAL
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return ColumnKind.NUMERIC
    return ColumnKind.OTHER


def _is_string(t: pa.DataType) -> bool:
    import pyarrow as pa

    is_view = getattr(pa.types, "is_string_view", None)  # pyarrow >= 16
    return bool(
        pa.types.is_string(t) or pa.types.is_large_string(t) or (is_view is not None and is_view(t))
    )


def is_integer_type(arrow_type: pa.DataType) -> bool:
    """Whether an Arrow type holds integers."""
    import pyarrow as pa

    return bool(pa.types.is_integer(arrow_type))


#: NumPy dtype of each primitive Arrow numeric type (by ``str(type)``).
_NUMPY_DTYPES: dict[str, type[np.generic]] = {
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "halffloat": np.float16,
    "float": np.float32,
    "double": np.float64,
}


def numeric_values(chunk: pa.Array) -> NDArray[np.float64]:
    """Return a numeric Arrow array as ``float64`` with NaN where it is null.

    Primitive types are read straight from the Arrow buffers (zero-copy for ``double`` without
    nulls). ``Array.to_numpy`` would do the same but imports pandas on first use (about 35 MB
    and 0.1 s), which an Arrow-only caller should not pay; other types still go through it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_decimal(chunk.type):
        chunk = pc.cast(chunk, pa.float64())
    dtype = _NUMPY_DTYPES.get(str(chunk.type))
    if dtype is None:  # pragma: no cover - every numeric type is listed or cast above
        return np.asarray(chunk.to_numpy(zero_copy_only=False), dtype=np.float64)
    raw = _buffer_view(chunk, dtype)
    values = raw if dtype is np.float64 else raw.astype(np.float64)
    if chunk.null_count:
        values = np.where(validity(chunk), values, np.nan)
    return values


def validity(chunk: pa.Array) -> NDArray[np.bool_]:
    """Boolean mask of the non-null entries of an Arrow array."""
    bitmap = chunk.buffers()[0]
    n = len(chunk)
    if bitmap is None:
        return np.ones(n, dtype=np.bool_)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return bits[chunk.offset : chunk.offset + n].astype(np.bool_)


def _buffer_view(array: pa.Array, dtype: type[np.generic]) -> NDArray[Any]:
    """Read-only view of a null-free primitive Arrow array's values."""
    n = len(array)
    if n == 0:
        return np.empty(0, dtype=dtype)
    size = np.dtype(dtype).itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=n, offset=array.offset * size)


def int64_values(array: pa.Array) -> NDArray[np.int64]:
    """Return a null-free Arrow ``int64`` array as NumPy (a copy)."""
    return _buffer_view(array, np.int64).copy()


def arrow_indices(indices: NDArray[np.integer[Any]]) -> pa.Array:
    """Wrap NumPy indices as an Arrow ``int64`` array (for ``take``) without pandas."""
    import pyarrow as pa

    data = np.ascontiguousarray(indices, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), data.size, [None, pa.py_buffer(data)])


def category_counts(chunk: pa.Array) -> tuple[pa.Array, NDArray[np.int64]]:
    """Distinct non-null values of an array (as strings) and how often each occurs."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(chunk.type):
        # Count the small integer indices, then look the values up: no string is materialised.
        counted = pc.value_counts(chunk.indices)
        idx = counted.field("values")
        valid = idx.is_valid()
        idx = idx.filter(valid)
        counts = counted.field("counts").filter(valid)
        values = chunk.dictionary.take(idx)
    else:
        counted = pc.value_counts(chunk)
        values = counted.field("values")
        valid = values.is_valid()
        values = values.filter(valid)
        counts = counted.field("counts").filter(valid)
    if values.type != pa.string():
        values = pc.cast(values, pa.string())
    return values, int64_values(counts)


def merge_counts(
    values: Sequence[pa.Array], counts: Sequence[NDArray[np.int64]]
) -> tuple[pa.Array, NDArray[np.int64]]:
    """Sum the counts of equal values across several (values, counts) pairs.

    Returns the distinct values (in order of first appearance) with their total counts.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) == 1:
        return values[0], counts[0]
    encoded = pc.dictionary_encode(pa.concat_arrays(list(values)))
    codes = _buffer_view(encoded.indices, np.int32)
    # Weighted bincount sums in float64: exact for totals below 2**53.
    totals = np.bincount(codes, weights=np.concatenate(list(counts)).astype(np.float64))
    return encoded.dictionary, np.rint(totals).astype(np.int64)


def rank_by_count(values: pa.Array, counts: NDArray[np.int64]) -> NDArray[np.intp]:
    """Order of positions: most frequent first, ties by value (ascending)."""
    import pyarrow.compute as pc

    by_value = _buffer_view(pc.array_sort_indices(values), np.uint64)
    value_rank = np.empty(len(values), dtype=np.int64)
    value_rank[by_value.astype(np.int64)] = np.arange(len(values), dtype=np.int64)
    return np.lexsort((value_rank, -counts))


def select_columns(
    names: Collection[str], wanted: Collection[str] | None, *, what: str
) -> list[str]:
    """Return ``wanted`` (in its order) or all ``names``; unknown wanted names are an error."""
    if wanted is None:
        return list(names)
    missing = [w for w in wanted if w not in names]
    if missing:
        raise InvalidInput(
            f"{what} has no column(s) {', '.join(map(repr, missing))}; "
            f"its columns are: {', '.join(names)}"
        )
    return list(wanted)
