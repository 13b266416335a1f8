"""Turn user data into Arrow tables and column values, shared by profiling and monitoring.

Accepted inputs everywhere: ``pyarrow.Table``, ``pyarrow.RecordBatch`` and ``pandas.DataFrame``
(converted once, without its index). pyarrow and pandas are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Collection
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


def numeric_values(chunk: pa.Array) -> NDArray[np.float64]:
    """Return a numeric Arrow array as ``float64`` with NaN where it is null.

    Zero-copy for ``double`` without nulls; other types are converted.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    t = chunk.type
    if pa.types.is_decimal(t) or pa.types.is_float16(t):
        chunk = pc.cast(chunk, pa.float64())
    values = chunk.to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


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
    return values, np.asarray(counts.to_numpy(zero_copy_only=False), dtype=np.int64)


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
