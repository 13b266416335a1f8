"""Turn decoded JSON into the typed NumPy batch a model takes, checked against its signature.

The checks work on arrays, never DataFrames: a list of numeric records becomes one 2-D array
with one ``np.array`` call and one dtype test, and only a request that fails that test is
walked value by value to name the offending field. Every refusal names the field (and row)
so a client can fix its request: 422 for a wrong, missing or unknown field, 413 for too many
rows, 400 for an empty or shapeless body.

A *batch* is one of:

- a 2-D array in signature order (``columns`` models whose inputs share one numeric dtype:
  the fast path, given to ``Predictor.predict_array``);
- a dict of 1-D arrays by column name (mixed-type ``columns`` models) or of n-D arrays by
  tensor name (``tensor`` models);
- a list of records (models logged without a signature: nothing can be checked).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from modelward.errors import InvalidInput, PayloadTooLarge, SchemaViolation

__all__ = [
    "Batch",
    "InputSpec",
    "batch_rows",
    "concat",
    "take",
]

Batch = np.ndarray | dict[str, np.ndarray] | list[Any]

_NUMERIC = "fiub"


class InputSpec:
    """What one loaded model accepts, precomputed from its signature for fast checks.

    Args:
        signature: The model's signature (``None``: accept anything, check nothing).
        max_rows: Most rows accepted in one request.
        allow_nan: Accept null, NaN and infinity in float inputs.
    """

    __slots__ = (
        "allow_nan",
        "dtype",
        "dtypes",
        "homogeneous",
        "index",
        "kind",
        "max_rows",
        "names",
        "shapes",
    )

    def __init__(self, signature: Any, *, max_rows: int = 100_000, allow_nan: bool = False) -> None:
        self.max_rows = max_rows
        self.allow_nan = allow_nan
        if signature is None or not signature.inputs:
            self.kind = "none"
            self.names: tuple[str, ...] = ()
            self.dtypes: tuple[str, ...] = ()
            self.shapes: tuple[tuple[int, ...] | None, ...] = ()
        else:
            self.kind = str(getattr(signature.kind, "value", signature.kind))
            self.names = tuple(c.name for c in signature.inputs)
            self.dtypes = tuple(str(c.dtype) for c in signature.inputs)
            self.shapes = tuple(
                None if c.shape is None else tuple(c.shape) for c in signature.inputs
            )
        self.index = {n: i for i, n in enumerate(self.names)}
        kinds = {_kind(d) for d in self.dtypes}
        self.homogeneous = (
            self.kind == "columns" and len(set(self.dtypes)) == 1 and kinds <= set(_NUMERIC)
        )
        self.dtype = np.dtype(self.dtypes[0]) if self.homogeneous else None

    def describe(self) -> str:
        """``a, b, c`` for messages."""
        return ", ".join(self.names)

    def same_as(self, other: InputSpec) -> bool:
        """Whether a batch checked against ``other`` fits this spec unchanged."""
        return (self.kind, self.names, self.dtypes, self.shapes) == (
            other.kind,
            other.names,
            other.dtypes,
            other.shapes,
        )

    # -- entry points per request shape -------------------------------------------------------
    def from_records(self, records: Any) -> Batch:
        """A list of ``{field: value}`` objects (or one object)."""
        if isinstance(records, Mapping):
            records = [records]
        if not isinstance(records, list):
            raise InvalidInput(
                f"expected a list of records (JSON objects), got {_what(records)}",
                details={"got": _what(records)},
            )
        self._check_rows(len(records))
        if self.kind == "none":
            return records
        if self.kind == "tensor":
            return self.from_columns(_records_to_columns(records, self.names))
        names = self.names
        width = len(names)
        try:
            rows = [[r[n] for n in names] for r in records]
        except (KeyError, TypeError):
            raise self._record_error(records) from None
        for r in records:
            if len(r) != width:
                raise self._record_error(records)
        if self.homogeneous:
            return self._matrix(rows, lambda: _records_to_columns(records, names))
        columns = list(zip(*rows, strict=True))
        return {n: self._column(n, list(c)) for n, c in zip(names, columns, strict=True)}

    def from_columns(self, columns: Any) -> Batch:
        """A ``{field: [values]}`` object (scalars mean one row)."""
        if not isinstance(columns, Mapping):
            raise InvalidInput(
                f"expected an object of columns, got {_what(columns)}",
                details={"got": _what(columns)},
            )
        if self.kind == "none":
            data = {k: v if isinstance(v, list) else [v] for k, v in columns.items()}
            sizes = {len(v) for v in data.values()}
            if len(sizes) > 1:
                raise SchemaViolation("the columns have different lengths")
            n = sizes.pop() if sizes else 0
            self._check_rows(n)
            return [{k: v[i] for k, v in data.items()} for i in range(n)]
        self._check_fields(columns.keys())
        values = {
            n: columns[n] if isinstance(columns[n], list) else [columns[n]] for n in self.names
        }
        lengths = {n: len(v) for n, v in values.items()}
        if len(set(lengths.values())) > 1:
            raise SchemaViolation(
                "the columns have different lengths: "
                + ", ".join(f"{n}={k}" for n, k in lengths.items()),
                details={"lengths": lengths},
            )
        self._check_rows(next(iter(lengths.values())))
        if self.kind == "tensor":
            return {n: self._tensor(n, values[n], None) for n in self.names}
        if self.homogeneous:
            return self._matrix(list(zip(*values.values(), strict=True)), lambda: values)
        return {n: self._column(n, values[n]) for n in self.names}

    def from_rows(self, rows: Any, columns: Sequence[Any] | None = None) -> Batch:
        """Rows as lists: in ``columns`` order (``dataframe_split``) or in signature order."""
        if not isinstance(rows, list):
            raise InvalidInput(f"expected a list of rows, got {_what(rows)}")
        self._check_rows(len(rows))
        if columns is None:
            if self.kind == "none":
                return np.asarray(rows)
            columns = self.names
            for i, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != len(columns):
                    raise SchemaViolation(
                        f"row {i} must be a list of {len(columns)} values ({self.describe()}), "
                        f"got {_what(row)}",
                        details={"row": i, "expected": list(columns)},
                    )
        else:
            if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
                raise InvalidInput("'columns' must be a list of column names")
            for i, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != len(columns):
                    raise SchemaViolation(
                        f"row {i} has {len(row) if isinstance(row, list) else _what(row)} "
                        f"values but there are {len(columns)} columns",
                        details={"row": i},
                    )
            if self.kind == "none":
                return [dict(zip(columns, row, strict=True)) for row in rows]
            self._check_fields(columns)
        if self.homogeneous and list(columns) == list(self.names):
            return self._matrix(
                rows, lambda: {n: [r[i] for r in rows] for i, n in enumerate(self.names)}
            )
        position = {c: i for i, c in enumerate(columns)}
        values = {n: [r[position[n]] for r in rows] for n in self.names}
        return self.from_columns(values)

    def from_tensor(self, name: str, data: Any, shape: Sequence[int]) -> Batch:
        """One named tensor (Open Inference Protocol) holding every input as a matrix."""
        arr = _shaped(name, data, shape)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        self._check_rows(arr.shape[0])
        if self.kind == "none":
            return arr
        if self.kind == "tensor":
            if len(self.names) != 1:
                raise SchemaViolation(
                    f"this model takes {len(self.names)} tensors ({self.describe()}); send "
                    "one input per tensor, named after it"
                )
            return {self.names[0]: self._tensor(self.names[0], arr, arr.shape)}
        if arr.ndim != 2 or arr.shape[1] != len(self.names):
            raise SchemaViolation(
                f"input {name!r} has shape {list(arr.shape)} but the model takes "
                f"[N, {len(self.names)}] ({self.describe()}, in that order)",
                details={"input": name, "shape": list(arr.shape), "expected": list(self.names)},
            )
        if self.homogeneous:
            assert self.dtype is not None
            return self._finish_matrix(
                self._cast(arr, self.dtype, lambda: _matrix_columns(arr, self.names))
            )
        return {n: self._column(n, arr[:, i].tolist()) for i, n in enumerate(self.names)}

    def from_tensors(self, tensors: Mapping[str, tuple[Any, Any]]) -> Batch:
        """Named tensors ``{name: (data, shape)}`` for a ``tensor`` model."""
        self._check_fields(tensors.keys())
        out = {n: self._tensor(n, *tensors[n]) for n in self.names}
        rows = {n: int(a.shape[0]) if a.ndim else 0 for n, a in out.items()}
        if len(set(rows.values())) > 1:
            raise SchemaViolation(
                "the inputs have different batch sizes: "
                + ", ".join(f"{n}={k}" for n, k in rows.items()),
                details={"rows": rows},
            )
        self._check_rows(next(iter(rows.values())))
        return out

    # -- helpers -------------------------------------------------------------------------------
    def _check_rows(self, n: int) -> None:
        if n == 0:
            raise InvalidInput("the request has no rows; send at least one", details={"rows": 0})
        if n > self.max_rows:
            raise PayloadTooLarge(
                f"the request has {n:,} rows; this endpoint accepts at most {self.max_rows:,} "
                "per request. Split it, or use `modelward predict` for files",
                details={"rows": n, "max_rows": self.max_rows},
            )

    def _check_fields(self, given: Any) -> None:
        given = list(given)
        missing = [n for n in self.names if n not in given]
        unknown = [g for g in given if g not in self.index]
        if missing or unknown:
            raise self._fields_error(missing, unknown)

    def _fields_error(
        self, missing: list[str], unknown: list[Any], row: int | None = None
    ) -> SchemaViolation:
        parts = []
        if missing:
            parts.append(f"missing field(s) {', '.join(map(repr, missing))}")
        if unknown:
            parts.append(f"unknown field(s) {', '.join(map(repr, unknown))}")
        where = "" if row is None else f" in record {row}"
        details: dict[str, Any] = {"missing": missing, "unknown": [str(u) for u in unknown]}
        if missing or unknown:
            details["field"] = (missing or [str(u) for u in unknown])[0]
        if row is not None:
            details["record"] = row
        details["expected"] = list(self.names)
        return SchemaViolation(
            f"{' and '.join(parts)}{where}; the model takes {self.describe()}", details=details
        )

    def _record_error(self, records: list[Any]) -> ModelwardErrorLike:
        for i, r in enumerate(records):
            if not isinstance(r, Mapping):
                return SchemaViolation(
                    f"record {i} must be an object of fields ({self.describe()}), got {_what(r)}",
                    details={"record": i},
                )
            missing = [n for n in self.names if n not in r]
            unknown = [k for k in r if k not in self.index]
            if missing or unknown:
                return self._fields_error(missing, unknown, i)
        return InvalidInput("the records are malformed")  # pragma: no cover - defensive

    def _matrix(self, rows: list[Any], columns: Any) -> np.ndarray:
        """Rows -> 2-D array of the spec dtype; ``columns()`` gives per-field values on error."""
        assert self.dtype is not None
        try:
            arr = np.array(rows)
        except (ValueError, TypeError):
            arr = np.empty(0, dtype=object)
        return self._finish_matrix(self._cast(arr, self.dtype, columns))

    def _finish_matrix(self, arr: np.ndarray) -> np.ndarray:
        if arr.dtype.kind == "f" and not self.allow_nan and not np.isfinite(arr).all():
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise _nonfinite(self.names[int(bad[1])], int(bad[0]), float(arr[tuple(bad)]))
        return arr

    def _cast(self, arr: np.ndarray, dtype: np.dtype, columns: Any) -> np.ndarray:
        if arr.ndim == 2 and arr.dtype.kind in _NUMERIC:
            if arr.dtype.kind == "f" and dtype.kind in "iub" and not np.all(np.mod(arr, 1) == 0):
                for name, values in columns().items():
                    self._column(name, list(values))
            return arr.astype(dtype, copy=False)
        # Not one numeric matrix: check field by field (which names the culprit, or handles
        # nulls allowed as NaN and integers past int64) and stack the checked columns.
        cols = columns()
        checked = [self._column(n, list(cols[n])) for n in self.names]
        return np.column_stack(checked).astype(dtype, copy=False)

    def _column(self, name: str, values: list[Any]) -> np.ndarray:
        dtype = self.dtypes[self.index[name]]
        kind = _kind(dtype)
        if kind in _NUMERIC:
            return self._numeric(name, values, np.dtype(dtype))
        if kind == "U":
            for i, v in enumerate(values):
                if not isinstance(v, str):
                    raise _wrong(name, i, "a string", v)
            return np.array(values, dtype=object)
        if kind == "M":
            for i, v in enumerate(values):
                if not isinstance(v, str):
                    raise _wrong(name, i, "a date-time string (ISO 8601)", v)
            try:
                return np.array(values, dtype=dtype)
            except ValueError:
                raise SchemaViolation(
                    f"field {name!r} must hold ISO 8601 date-times (2024-01-31T12:00:00)",
                    details={"field": name, "expected": dtype},
                ) from None
        return np.array(values, dtype=object)

    def _numeric(self, name: str, values: list[Any], dtype: np.dtype) -> np.ndarray:
        what = _describe_dtype(dtype)
        floats = dtype.kind == "f"
        clean: list[Any] = values
        for i, v in enumerate(values):
            t = type(v)
            if t is float or t is int:
                continue
            if t is bool:
                continue
            if v is None and floats and self.allow_nan:
                if clean is values:
                    clean = list(values)
                clean[i] = math.nan
                continue
            raise _wrong(name, i, what, v)
        try:
            arr = np.array(clean)
        except (ValueError, OverflowError):
            raise SchemaViolation(
                f"field {name!r} holds numbers that do not fit {dtype}",
                details={"field": name, "expected": str(dtype)},
            ) from None
        if arr.dtype.kind == "O" and floats:
            arr = np.array(clean, dtype=np.float64)  # integers past int64 still fit a float
        if arr.dtype.kind == "O":
            raise SchemaViolation(
                f"field {name!r} holds an integer too large for {dtype}",
                details={"field": name, "expected": str(dtype)},
            )
        if dtype.kind == "b" and arr.dtype.kind != "b":
            i = next(i for i, v in enumerate(values) if type(v) is not bool)
            raise _wrong(name, i, what, values[i])
        if dtype.kind in "iu" and arr.dtype.kind == "f":
            fractional = np.flatnonzero(np.mod(arr, 1) != 0)
            if fractional.size:
                i = int(fractional[0])
                raise _wrong(name, i, what, values[i])
        if floats and not self.allow_nan:
            arr = arr.astype(dtype, copy=False)
            if not np.isfinite(arr).all():
                i = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise _nonfinite(name, i, float(arr[i]))
            return arr
        return arr.astype(dtype)

    def _tensor(self, name: str, data: Any, shape: Sequence[int] | None) -> np.ndarray:
        i = self.index[name]
        arr = np.asarray(data) if shape is None else _shaped(name, data, shape)
        want = self.shapes[i] or ()
        if want and arr.ndim != len(want):
            raise SchemaViolation(
                f"input {name!r} must have {len(want)} dimensions, got shape {list(arr.shape)}",
                details={"field": name, "expected": list(want), "got": list(arr.shape)},
            )
        for axis, (w, g) in enumerate(zip(want, arr.shape, strict=False)):
            if w not in (-1, g):
                raise SchemaViolation(
                    f"input {name!r} must have size {w} on axis {axis}, got shape "
                    f"{list(arr.shape)}",
                    details={"field": name, "expected": list(want), "got": list(arr.shape)},
                )
        dtype = self.dtypes[i]
        if _kind(dtype) in _NUMERIC:
            if arr.dtype.kind not in _NUMERIC:
                raise SchemaViolation(
                    f"input {name!r} must hold {_describe_dtype(np.dtype(dtype))}",
                    details={"field": name, "expected": dtype},
                )
            arr = arr.astype(dtype, copy=False)
            if arr.dtype.kind == "f" and not self.allow_nan and not np.isfinite(arr).all():
                raise _nonfinite(
                    name, int(np.flatnonzero(~np.isfinite(arr.reshape(-1)))[0]), math.nan
                )
        return arr


ModelwardErrorLike = SchemaViolation | InvalidInput


def _kind(dtype: str) -> str:
    if dtype == "str":
        return "U"
    if dtype == "object":
        return "O"
    try:
        return np.dtype(dtype).kind
    except TypeError:
        return "O"


def _describe_dtype(dtype: np.dtype) -> str:
    if dtype.kind == "f":
        return f"a number ({dtype})"
    if dtype.kind in "iu":
        return f"an integer ({dtype})"
    return f"a boolean ({dtype})"


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"a string ({shown!r})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _wrong(name: str, row: int, expected: str, value: Any) -> SchemaViolation:
    got = _what(value)
    return SchemaViolation(
        f"field {name!r} of row {row} must be {expected}, got {got}",
        details={"field": name, "row": row, "expected": expected, "got": got},
    )


def _nonfinite(name: str, row: int, value: float) -> SchemaViolation:
    return SchemaViolation(
        f"field {name!r} of row {row} is {value}; the model needs finite numbers (the "
        "deployment refuses null, NaN and infinity unless its limits allow NaN)",
        details={"field": name, "row": row, "got": str(value)},
    )


def _records_to_columns(records: list[Any], names: Sequence[str]) -> dict[str, list[Any]]:
    return {n: [r.get(n) if isinstance(r, Mapping) else None for r in records] for n in names}


def _matrix_columns(arr: np.ndarray, names: Sequence[str]) -> dict[str, list[Any]]:
    return {n: arr[:, i].tolist() for i, n in enumerate(names)}


def _shaped(name: str, data: Any, shape: Sequence[int]) -> np.ndarray:
    if not isinstance(shape, list | tuple) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InvalidInput(
            f"input {name!r}: 'shape' must be a list of non-negative integers, got {shape!r}",
            details={"input": name},
        )
    try:
        arr = np.array(data)
    except (ValueError, TypeError):
        raise SchemaViolation(
            f"input {name!r}: 'data' is ragged or mixes types", details={"input": name}
        ) from None
    size = math.prod(shape)
    if arr.size != size:
        raise SchemaViolation(
            f"input {name!r} has {arr.size} values but shape {list(shape)} needs {size}",
            details={"input": name, "shape": list(shape), "values": int(arr.size)},
        )
    return arr.reshape(tuple(shape))


# -- batches ------------------------------------------------------------------------------------
def batch_rows(batch: Batch) -> int:
    """Rows in a batch."""
    if isinstance(batch, dict):
        first = next(iter(batch.values()))
        return int(first.shape[0])
    return len(batch)


def concat(batches: Sequence[Batch]) -> Batch:
    """One batch holding ``batches`` one after the other (all of one form)."""
    first = batches[0]
    if len(batches) == 1:
        return first
    if isinstance(first, np.ndarray):
        return np.concatenate(batches)  # type: ignore[arg-type]
    if isinstance(first, dict):
        return {k: np.concatenate([b[k] for b in batches]) for k in first}  # type: ignore[call-overload]
    out: list[Any] = []
    for b in batches:
        out.extend(b)
    return out


def take(batch: Batch, start: int, stop: int) -> Batch:
    """Rows ``start:stop`` of a batch (views where possible)."""
    if isinstance(batch, dict):
        return {k: v[start:stop] for k, v in batch.items()}
    return batch[start:stop]
