"""Applying a recipe's row steps to pandas DataFrames.

``filter`` and ``derive`` expressions are SQL, evaluated by DuckDB over the frame in a private
in-memory database with file access disabled: an expression can compute with the columns and
nothing else (no reading files, no network).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelward.datasets.recipes.spec import (
    Derive,
    DropDuplicates,
    DropMissing,
    FillMissing,
    Filter,
    Join,
    Outliers,
    Rename,
    Select,
    Step,
)
from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["apply_steps", "evaluate_sql"]

log = logging.getLogger(__name__)


def apply_steps(
    frame: pd.DataFrame, steps: Sequence[Step], others: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """Return ``frame`` after every step, in order (``others``: inputs by alias for joins).

    Raises:
        InvalidInput: A step names an unknown column or its expression fails, with the step
            number and kind.
    """
    for index, step in enumerate(steps, 1):
        before = len(frame)
        try:
            frame = _apply(frame, step, others)
        except InvalidInput as exc:
            raise InvalidInput(
                f"step {index} ({step.kind}): {exc.message}", details={"step": index}
            ) from None
        log.debug("step %d (%s): %d -> %d rows", index, step.kind, before, len(frame))
    return frame.reset_index(drop=True)


def _require(frame: pd.DataFrame, columns: Sequence[str] | None, what: str = "") -> list[str]:
    if columns is None:
        return [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"unknown column(s) {', '.join(map(repr, missing))}{what}; the data has: "
            f"{', '.join(map(str, frame.columns))}",
            details={"missing": missing},
        )
    return list(columns)


def _numeric(frame: pd.DataFrame, columns: Sequence[str], method: str) -> None:
    import pandas as pd

    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise InvalidInput(f"{method} needs numeric columns; not numeric: {', '.join(bad)}")


def _apply(frame: pd.DataFrame, step: Step, others: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    if isinstance(step, DropDuplicates):
        subset = _require(frame, step.subset) if step.subset else None
        keep: Any = False if step.keep == "none" else step.keep
        return frame.drop_duplicates(subset=subset, keep=keep)
    if isinstance(step, DropMissing):
        return frame.dropna(subset=_require(frame, step.columns), how=step.how)
    if isinstance(step, FillMissing):
        return _fill(frame, step)
    if isinstance(step, Outliers):
        return _outliers(frame, step)
    if isinstance(step, Filter):
        mask = evaluate_sql(frame, step.expression)
        if mask.dtype != bool:
            raise InvalidInput(
                f"the filter {step.expression!r} gives {mask.dtype} values, not true/false"
            )
        return frame[mask.to_numpy()]
    if isinstance(step, Select):
        return frame[_require(frame, step.columns)]
    if isinstance(step, Rename):
        _require(frame, list(step.mapping))
        renamed = frame.rename(columns=dict(step.mapping))
        names = [str(c) for c in renamed.columns]
        if len(set(names)) != len(names):
            raise InvalidInput("renaming would give two columns the same name")
        return renamed
    if isinstance(step, Derive):
        out = frame.copy()
        for name, expression in step.columns.items():
            out[name] = evaluate_sql(out, expression).to_numpy()
        return out
    if isinstance(step, Join):
        other = others[step.with_]
        keys = _require(frame, step.on)
        _require(other, step.on, f" in input {step.with_!r}")
        return pd.merge(frame, other, on=keys, how=step.how, suffixes=("", f"_{step.with_}"))
    raise InvalidInput(f"unsupported step {step.kind!r}")  # pragma: no cover


def _fill(frame: pd.DataFrame, step: FillMissing) -> pd.DataFrame:
    import pandas as pd

    columns = _require(frame, step.columns)
    out = frame.copy()
    if step.method == "forward":
        out[columns] = out[columns].ffill()
    elif step.method == "backward":
        out[columns] = out[columns].bfill()
    elif step.method == "constant":
        for c in columns:
            out[c] = out[c].fillna(step.value)
    elif step.method in ("mean", "median"):
        if step.columns is None:
            columns = [c for c in columns if pd.api.types.is_numeric_dtype(out[c])]
        _numeric(out, columns, step.method)
        for c in columns:
            value = out[c].mean() if step.method == "mean" else out[c].median()
            out[c] = out[c].fillna(value)
    else:  # mode
        for c in columns:
            modes = out[c].mode(dropna=True)
            if len(modes):
                out[c] = out[c].fillna(modes.iloc[0])
    return out


def _outliers(frame: pd.DataFrame, step: Outliers) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    columns = _require(frame, step.columns)
    if step.columns is None:
        columns = [
            c
            for c in columns
            if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        ]
    _numeric(frame, columns, "outliers")
    out = frame.copy()
    keep = np.ones(len(out), dtype=bool)
    for c in columns:
        values = out[c].astype("float64")
        if step.method == "iqr":
            q1, q3 = values.quantile(0.25), values.quantile(0.75)
            low, high = q1 - step.factor * (q3 - q1), q3 + step.factor * (q3 - q1)
        else:
            mean, std = values.mean(), values.std(ddof=0)
            low, high = mean - step.threshold * std, mean + step.threshold * std
        if step.action == "clip":
            out[c] = out[c].clip(lower=low, upper=high)
        else:
            # Missing values are not outliers: they stay (drop_missing removes them).
            keep &= ~((values < low) | (values > high)).to_numpy()
    return out[keep] if step.action == "remove" else out


def evaluate_sql(frame: pd.DataFrame, expression: str) -> pd.Series:
    """Evaluate a SQL expression over every row of ``frame`` and return the values in order.

    Raises:
        InvalidInput: The expression does not parse, names an unknown column, or fails.
    """
    import duckdb
    import pandas as pd

    connection = duckdb.connect(":memory:", config={"enable_external_access": False})
    try:
        relation = connection.from_df(frame)
        result = relation.project(f"({expression}) AS __value").to_arrow_table()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise InvalidInput(f"the expression {expression!r} failed: {first}") from None
    finally:
        connection.close()
    column = result.column(0)
    import pyarrow as pa

    if pa.types.is_boolean(column.type):
        return pd.Series(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    return column.to_pandas()
