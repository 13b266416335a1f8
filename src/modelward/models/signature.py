"""Signatures: infer them from an input example, and enforce them on every batch.

Enforcement works on NumPy arrays, not DataFrames: a 2-D numeric array whose width matches
the signature is checked with one dtype test and passed on untouched, so the per-call cost
stays in microseconds (the serving path depends on it). Tables arrive in any of four shapes
(DataFrame, 2-D array in signature order, list of records, dict of columns) and leave as a
:class:`Table` the backends turn into what their library wants.

Casting rules ("safe casts allowed"): int and bool to float, float to a narrower float,
bool to int, int to a wider int. Float to int, text to numbers and numbers to text are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from modelward.entities.models import ColumnSpec, ModelSignature, SignatureKind
from modelward.errors import InvalidInput, SchemaViolation

__all__ = ["Table", "coerce_tensors", "infer_signature", "to_table"]

_NUMERIC = "biuf"


def _frame_types() -> Any:
    import pandas as pd

    return pd.DataFrame


def _dtype_name(values: Any) -> str:
    """The signature dtype of a pandas/NumPy column."""
    import pandas as pd

    dtype = getattr(values, "dtype", None)
    if dtype is None:
        return "object"
    if isinstance(dtype, np.dtype) and dtype.kind in _NUMERIC:
        return str(dtype)
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return str(dtype)
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int64"
    if pd.api.types.is_float_dtype(dtype):
        return "float64"
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        kind = pd.api.types.infer_dtype(values, skipna=True)
        return "str" if kind in {"string", "empty"} else "object"
    return "object"


def infer_signature(
    example: Any, output: Any = None, *, kind: SignatureKind = SignatureKind.COLUMNS
) -> ModelSignature:
    """Build a signature from an input example (and optionally an output example).

    Args:
        example: A DataFrame, a list of records, a dict of columns, or a NumPy array (2-D for
            columns; any rank for tensors; a dict of arrays for several tensors).
        output: What the model returned for ``example`` (an array), if known.
        kind: ``columns`` for tabular models, ``tensor`` for array models.
    """
    if kind is SignatureKind.TENSOR:
        arrays = example if isinstance(example, Mapping) else {"input": example}
        inputs = []
        for name, value in arrays.items():
            arr = np.asarray(value)
            inputs.append(ColumnSpec(str(name), str(arr.dtype), (-1, *arr.shape[1:])))
        outputs: tuple[ColumnSpec, ...] = ()
        if output is not None:
            out = np.asarray(output)
            outputs = (ColumnSpec("output", str(out.dtype), (-1, *out.shape[1:])),)
        return ModelSignature(tuple(inputs), outputs, SignatureKind.TENSOR)
    frame = _as_example_frame(example)
    inputs = [ColumnSpec(str(name), _dtype_name(frame[name])) for name in frame.columns]
    outputs = ()
    if output is not None:
        out = np.asarray(output)
        shape = None if out.ndim <= 1 else (-1, *out.shape[1:])
        outputs = (ColumnSpec("prediction", _dtype_name(out), shape),)
    return ModelSignature(tuple(inputs), outputs, SignatureKind.COLUMNS)


def _as_example_frame(example: Any) -> Any:
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        return example
    if isinstance(example, np.ndarray):
        if example.ndim != 2:
            raise InvalidInput(
                f"a tabular input example must be 2-D (rows x columns), not {example.ndim}-D"
            )
        return pd.DataFrame(example, columns=[f"f{i}" for i in range(example.shape[1])])
    if isinstance(example, Mapping):
        return pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in example.items()})
    if isinstance(example, Sequence) and example and isinstance(example[0], Mapping):
        return pd.DataFrame.from_records(list(example))
    raise InvalidInput(
        f"cannot infer a signature from a {type(example).__name__}; pass a DataFrame, a 2-D "
        "NumPy array, a list of records or a dict of columns as input_example"
    )


class Table:
    """A validated batch of rows: either one 2-D array or one 1-D array per column.

    Backends ask for the form their library wants (:meth:`array`, :meth:`frame`,
    :meth:`column`); conversions are made once and cached.
    """

    __slots__ = ("_array", "_columns", "_frame", "n_rows", "names")

    def __init__(
        self,
        names: Sequence[str],
        *,
        array: np.ndarray | None = None,
        columns: Sequence[np.ndarray] | None = None,
    ) -> None:
        self.names = list(names)
        self._array = array
        self._columns = None if columns is None else list(columns)
        self._frame: Any = None
        if array is not None:
            self.n_rows = int(array.shape[0])
        elif self._columns:
            self.n_rows = len(self._columns[0])
        else:
            self.n_rows = 0

    def array(self) -> np.ndarray:
        """The rows as one 2-D array (columns in signature order)."""
        if self._array is None:
            assert self._columns is not None
            self._array = np.column_stack(self._columns)
        return self._array

    def column(self, i: int) -> np.ndarray:
        """Column ``i`` as a 1-D array."""
        if self._columns is not None:
            return self._columns[i]
        assert self._array is not None
        return self._array[:, i]

    def frame(self) -> Any:
        """The rows as a pandas DataFrame (built once; the slow path, ~4x a NumPy call)."""
        if self._frame is None:
            import pandas as pd

            if self._columns is not None:
                self._frame = pd.DataFrame(dict(zip(self.names, self._columns, strict=True)))
            else:
                self._frame = pd.DataFrame(self._array, columns=self.names, copy=False)
        return self._frame

    def slice(self, start: int, stop: int) -> Table:
        """Rows ``start:stop`` as a new table (views, no copy)."""
        if self._columns is not None:
            return Table(self.names, columns=[c[start:stop] for c in self._columns])
        assert self._array is not None
        return Table(self.names, array=self._array[start:stop])


def _kind(spec_dtype: str) -> str:
    if spec_dtype in {"str", "object"}:
        return "U" if spec_dtype == "str" else "O"
    try:
        return np.dtype(spec_dtype).kind
    except TypeError:
        return "O"


def _cast_numeric(name: str, values: np.ndarray, spec: str) -> np.ndarray:
    """Cast a numeric column to the spec dtype if the cast is safe, else SchemaViolation."""
    target = np.dtype(spec)
    src = values.dtype
    if src == target:
        return values
    if src.kind in _NUMERIC and (
        np.can_cast(src, target, "safe") or (src.kind == "f" and target.kind == "f")
    ):
        return values.astype(target)
    if src.kind == "O":
        import pandas as pd

        inferred = pd.api.types.infer_dtype(values, skipna=True)
        ok = {
            "f": {"floating", "integer", "mixed-integer-float", "boolean", "empty"},
            "i": {"integer", "boolean", "empty"},
            "u": {"integer", "empty"},
            "b": {"boolean"},
        }[target.kind]
        if inferred in ok:
            try:
                return values.astype(target)
            except (TypeError, ValueError):
                pass
        src_text = f"{inferred} values"
    else:
        src_text = str(src)
    raise SchemaViolation(
        f"column {name!r} must be {spec} but got {src_text}; only safe casts are made "
        "(int/bool to float, float narrowing, int widening). Convert the column first",
        details={"column": name, "expected": spec, "got": src_text},
    )


def _check_text(name: str, values: np.ndarray, spec: str) -> np.ndarray:
    if values.dtype.kind in "US":
        return values.astype(object)
    if values.dtype.kind == "O":
        if spec == "object":
            return values
        import pandas as pd

        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred in {"string", "empty"}:
            return values
        got = f"{inferred} values"
    elif spec == "object":
        return values
    else:
        got = str(values.dtype)
    raise SchemaViolation(
        f"column {name!r} must be text (str) but got {got}; convert it with astype(str) "
        "if the numbers are really labels",
        details={"column": name, "expected": spec, "got": got},
    )


def _check_column(name: str, values: Any, spec: ColumnSpec) -> np.ndarray:
    arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    if arr.ndim != 1:
        raise SchemaViolation(
            f"column {name!r} must hold one value per row, got shape {arr.shape}",
            details={"column": name},
        )
    kind = _kind(spec.dtype)
    if kind in _NUMERIC:
        return _cast_numeric(name, arr, spec.dtype)
    if kind in "UO":
        return _check_text(name, arr, spec.dtype)
    if kind == "M":
        if arr.dtype.kind == "M":
            return arr.astype(spec.dtype)
        raise SchemaViolation(
            f"column {name!r} must be {spec.dtype} but got {arr.dtype}; parse it first "
            "(pandas.to_datetime)",
            details={"column": name},
        )
    return arr


def _empty() -> InvalidInput:
    return InvalidInput(
        "the batch is empty (0 rows); send at least one row",
        details={"rows": 0},
    )


def _from_2d(arr: np.ndarray, signature: ModelSignature) -> Table:
    specs = signature.inputs
    names = signature.input_names
    if arr.shape[1] != len(specs):
        raise SchemaViolation(
            f"the array has {arr.shape[1]} columns but the model takes {len(specs)} "
            f"({', '.join(names)}), in that order",
            details={"expected": names, "got_columns": int(arr.shape[1])},
        )
    kinds = {_kind(s.dtype) for s in specs}
    if arr.dtype.kind in _NUMERIC and len({s.dtype for s in specs}) == 1 and kinds <= set("fiub"):
        # The fast path: one dtype check for the whole array.
        return Table(names, array=_cast_numeric(names[0], arr, specs[0].dtype))
    return Table(
        names,
        columns=[
            _check_column(n, arr[:, i], s)
            for i, (n, s) in enumerate(zip(names, specs, strict=True))
        ],
    )


def to_table(data: Any, signature: ModelSignature) -> Table:
    """Check a batch against a ``columns`` signature and return it as a :class:`Table`.

    Accepts a DataFrame (extra columns are ignored), a 2-D array in signature order, a list of
    records (dicts) or a dict of columns (scalars mean one row).

    Raises:
        SchemaViolation: A column is missing, or has a type that cannot be cast safely.
        InvalidInput: The batch is empty or of an unsupported type.
    """
    names = signature.input_names
    if isinstance(data, np.ndarray):
        if data.ndim == 1 and len(names) == 1:
            data = data.reshape(-1, 1)
        if data.ndim != 2:
            raise SchemaViolation(
                f"pass a 2-D array (rows x {len(names)} columns), not {data.ndim}-D; "
                "for one row use x.reshape(1, -1)",
                details={"ndim": int(data.ndim)},
            )
        if data.shape[0] == 0:
            raise _empty()
        return _from_2d(data, signature)
    if isinstance(data, _frame_types()):
        if len(data) == 0:
            raise _empty()
        missing = [n for n in names if n not in data.columns]
        if missing:
            raise _missing(missing, names)
        return Table(
            names,
            columns=[
                _check_column(n, data[n].to_numpy(), s)
                for n, s in zip(names, signature.inputs, strict=True)
            ],
        )
    if isinstance(data, Mapping):
        missing = [n for n in names if n not in data]
        if missing:
            raise _missing(missing, names)
        cols = [np.atleast_1d(np.asarray(data[n])) for n in names]
        if len({len(c) for c in cols}) > 1:
            raise SchemaViolation(
                "the columns have different lengths: "
                + ", ".join(f"{n}={len(c)}" for n, c in zip(names, cols, strict=True))
            )
        if cols and len(cols[0]) == 0:
            raise _empty()
        return Table(
            names,
            columns=[
                _check_column(n, c, s)
                for n, c, s in zip(names, cols, signature.inputs, strict=True)
            ],
        )
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if len(data) == 0:
            raise _empty()
        first = data[0]
        if isinstance(first, Mapping):
            return _from_records(data, signature)
        return to_table(np.asarray(data), signature)
    raise InvalidInput(
        f"cannot predict on a {type(data).__name__}; pass a DataFrame, a 2-D NumPy array, "
        "a list of records (dicts) or a dict of columns"
    )


def _from_records(records: Sequence[Any], signature: ModelSignature) -> Table:
    names = signature.input_names
    columns: list[list[Any]] = [[] for _ in names]
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidInput(f"record {i} is a {type(record).__name__}, not a dict")
        try:
            for col, name in zip(columns, names, strict=True):
                col.append(record[name])
        except KeyError as exc:
            missing = [n for n in names if n not in record]
            raise SchemaViolation(
                f"record {i} has no {', '.join(map(repr, missing))}; the model takes "
                f"{', '.join(names)}",
                details={"record": i, "missing": missing},
            ) from exc
    arrays = []
    for name, col, spec in zip(names, columns, signature.inputs, strict=True):
        kind = _kind(spec.dtype)
        arr = np.array(col, dtype=object if kind in "UOM" else None)
        if arr.dtype.kind in "US":
            arr = arr.astype(object)
        arrays.append(_check_column(name, arr, spec))
    return Table(names, columns=arrays)


def _missing(missing: list[str], names: list[str]) -> SchemaViolation:
    return SchemaViolation(
        f"missing column(s) {', '.join(map(repr, missing))}; the model takes {', '.join(names)}",
        details={"missing": missing, "expected": names},
    )


def coerce_tensors(data: Any, signature: ModelSignature) -> dict[str, np.ndarray]:
    """Check array input against a ``tensor`` signature; return name -> array (cast safely).

    One array is accepted for a one-input model, a dict name -> array otherwise; a DataFrame
    becomes its values.
    """
    specs = signature.inputs
    if isinstance(data, Mapping):
        missing = [s.name for s in specs if s.name not in data]
        if missing:
            raise SchemaViolation(
                f"missing input(s) {', '.join(map(repr, missing))}; the model takes "
                f"{', '.join(s.name for s in specs)}",
                details={"missing": missing},
            )
        raw = {s.name: data[s.name] for s in specs}
    elif len(specs) == 1:
        if isinstance(data, _frame_types()):
            data = data.to_numpy()
        raw = {specs[0].name: data}
    else:
        raise SchemaViolation(
            f"this model takes {len(specs)} inputs ({', '.join(s.name for s in specs)}); "
            "pass a dict of arrays"
        )
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        arr = np.asarray(raw[spec.name])
        shape = spec.shape or ()
        if shape and arr.ndim != len(shape):
            raise SchemaViolation(
                f"input {spec.name!r} must have {len(shape)} dimensions {_shape_text(shape)}, "
                f"got shape {arr.shape}",
                details={"input": spec.name, "expected": list(shape), "got": list(arr.shape)},
            )
        for axis, (want, got) in enumerate(zip(shape, arr.shape, strict=False)):
            if want not in (-1, got):
                raise SchemaViolation(
                    f"input {spec.name!r} must have size {want} on axis {axis} "
                    f"{_shape_text(shape)}, got shape {arr.shape}",
                    details={"input": spec.name, "expected": list(shape), "got": list(arr.shape)},
                )
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise _empty()
        if _kind(spec.dtype) in _NUMERIC:
            arr = _cast_numeric(spec.name, arr.reshape(-1), spec.dtype).reshape(arr.shape)
        out[spec.name] = arr
    return out


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join("N" if d == -1 else str(d) for d in shape) + ")"
