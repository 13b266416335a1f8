"""Column summaries that drift and quality checks compare, built from data or from a profile.

A window (reference or current) becomes a :class:`Window`: per column either a
:class:`NumericColumn` (sorted finite values: all of them from data, the profile's sample from
a profile), a :class:`CategoricalColumn` (value counts) or an :class:`OtherColumn` (counts
only). Statistics then never care where the window came from; ``exact`` says whether they are
computed on every value or on a sample.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelward.errors import InvalidInput
from modelward.profiling.entities import ColumnKind, ColumnProfile, DatasetProfile

__all__ = [
    "CategoricalColumn",
    "Column",
    "NumericColumn",
    "OtherColumn",
    "Window",
    "summarize",
]

#: Label of the bucket holding values a summary does not list one by one.
OTHER_LABEL = "<other>"


@dataclass(frozen=True, slots=True, eq=False)
class NumericColumn:
    """A numeric column's finite values, sorted.

    Attributes:
        values: Sorted finite values: every one (``exact``) or a uniform sample.
        finite: How many finite values the window really has.
        mean: Mean of all finite values (``None`` without any).
        std: Population standard deviation of all finite values.
        min: Smallest finite value.
        max: Largest finite value.
        infinite: Count of infinite values (left out of ``values``).
    """

    name: str
    dtype: str
    nullable: bool
    rows: int
    nulls: int
    values: NDArray[np.float64]
    exact: bool
    finite: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    infinite: int = 0
    kind: ColumnKind = ColumnKind.NUMERIC

    @property
    def has_values(self) -> bool:
        """Whether there is anything to compare."""
        return self.values.size > 0


@dataclass(frozen=True, slots=True, eq=False)
class CategoricalColumn:
    """A categorical column's value counts, most frequent first.

    Attributes:
        categories: Listed values.
        counts: Count per listed value.
        other: Non-null values not listed (summaries are capped at ``max_categories``).
        exact: Whether the counts are exact and complete (``other == 0`` and nothing pruned).
    """

    name: str
    dtype: str
    nullable: bool
    rows: int
    nulls: int
    categories: tuple[str, ...]
    counts: NDArray[np.int64]
    other: int
    exact: bool
    kind: ColumnKind = ColumnKind.CATEGORICAL

    @property
    def total(self) -> int:
        """Non-null values."""
        return int(self.counts.sum()) + self.other

    @property
    def has_values(self) -> bool:
        """Whether there is anything to compare."""
        return self.total > 0


@dataclass(frozen=True, slots=True)
class OtherColumn:
    """A column of a type without a distribution summary (timestamps, binary, nested, null)."""

    name: str
    dtype: str
    nullable: bool
    rows: int
    nulls: int
    exact: bool = True
    kind: ColumnKind = ColumnKind.OTHER

    @property
    def has_values(self) -> bool:
        """Always False: nothing here can be compared."""
        return False


Column = NumericColumn | CategoricalColumn | OtherColumn


@dataclass(frozen=True, slots=True)
class Window:
    """A table (or profile) reduced to the column summaries a check needs.

    Attributes:
        rows: Rows in the window.
        columns: Summaries of the requested columns that exist, by name.
        dtypes: Arrow type of every column the window has (requested or not), in order.
        from_profile: Whether it was built from a stored profile.
    """

    rows: int
    columns: dict[str, Column] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    from_profile: bool = False


def summarize(
    data: Any,
    *,
    columns: Iterable[str] | None = None,
    categorical: Collection[str] = (),
    max_categories: int = 1000,
    what: str = "data",
) -> Window:
    """Summarise ``data`` (a table, DataFrame, RecordBatch or :class:`DatasetProfile`).

    Args:
        data: The window.
        columns: Columns to summarise (default: all); names the data lacks are skipped (the
            caller reports them).
        categorical: Numeric columns to treat as categorical (compared as strings).
        max_categories: Most values listed per categorical column; the rest become "other".
        what: Name of the window in error messages.
    """
    if isinstance(data, DatasetProfile):
        return _from_profile(data, columns, categorical)
    return _from_table(data, columns, categorical, max_categories, what)


def _from_profile(
    profile: DatasetProfile, columns: Iterable[str] | None, categorical: Collection[str]
) -> Window:
    wanted = list(columns) if columns is not None else list(profile.names)
    out: dict[str, Column] = {}
    for name in wanted:
        if name not in profile:
            continue
        col = profile.column(name)
        if name in categorical and col.kind is ColumnKind.NUMERIC:
            raise InvalidInput(
                f"column {name!r} is numeric in the profile, so it cannot be compared as "
                f"categorical; rebuild the profile with categorical=[{name!r}]"
            )
        out[name] = _column_from_profile(col, profile.row_count)
    dtypes = {c.name: c.dtype for c in profile.columns}
    return Window(rows=profile.row_count, columns=out, dtypes=dtypes, from_profile=True)


def _column_from_profile(col: ColumnProfile, rows: int) -> Column:
    if col.kind is ColumnKind.NUMERIC and col.numeric is not None:
        s = col.numeric
        return NumericColumn(
            name=col.name,
            dtype=col.dtype,
            nullable=col.nullable,
            rows=rows,
            nulls=col.nulls,
            values=np.asarray(s.sample, dtype=np.float64),
            exact=s.sample_exact,
            finite=col.count - s.infinite,
            mean=s.mean,
            std=s.std,
            min=s.min,
            max=s.max,
            infinite=s.infinite,
        )
    if col.kind is ColumnKind.CATEGORICAL and col.categorical is not None:
        c = col.categorical
        return CategoricalColumn(
            name=col.name,
            dtype=col.dtype,
            nullable=col.nullable,
            rows=rows,
            nulls=col.nulls,
            categories=tuple(v for v, _ in c.top),
            counts=np.asarray([n for _, n in c.top], dtype=np.int64),
            other=c.other_count,
            exact=c.complete and c.count_error == 0,
        )
    return OtherColumn(
        name=col.name, dtype=col.dtype, nullable=col.nullable, rows=rows, nulls=col.nulls
    )


def _from_table(
    data: Any,
    columns: Iterable[str] | None,
    categorical: Collection[str],
    max_categories: int,
    what: str,
) -> Window:
    from modelward.profiling.tabular import column_kind, to_table

    table = to_table(data, what=what)
    wanted = list(columns) if columns is not None else list(table.column_names)
    out: dict[str, Column] = {}
    for name in wanted:
        if name not in table.column_names:
            continue
        field_ = table.schema.field(name)
        column = table.column(name)
        kind = column_kind(field_.type, categorical=name in categorical)
        common = {
            "name": name,
            "dtype": str(field_.type),
            "nullable": bool(field_.nullable),
            "rows": table.num_rows,
        }
        if kind is ColumnKind.NUMERIC:
            out[name] = _numeric_from_chunks(column.chunks, common)
        elif kind is ColumnKind.CATEGORICAL:
            out[name] = _categorical_from_chunks(column.chunks, common, max_categories)
        else:
            out[name] = OtherColumn(nulls=column.null_count, **common)
    dtypes = {f.name: str(f.type) for f in table.schema}
    return Window(rows=table.num_rows, columns=out, dtypes=dtypes)


def _numeric_from_chunks(chunks: list[Any], common: dict[str, Any]) -> NumericColumn:
    from modelward.profiling.tabular import numeric_values

    parts = [numeric_values(c) for c in chunks if len(c)]
    if len(parts) == 1:
        values = parts[0]
    else:
        values = np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)
    del parts
    total = float(np.sum(values)) if values.size else 0.0
    if np.isfinite(total):
        x = np.sort(values)  # the whole column is finite (NaN/inf would poison the sum)
        nulls = infinite = 0
    else:
        nan = np.isnan(values)
        nulls = int(np.count_nonzero(nan))
        finite = np.isfinite(values)
        infinite = values.size - nulls - int(np.count_nonzero(finite))
        x = values[finite]
        x.sort()
    del values
    has = x.size > 0
    mean = float(np.mean(x)) if has else None
    return NumericColumn(
        nulls=nulls,
        values=x,
        exact=True,
        finite=int(x.size),
        mean=mean,
        std=float(np.std(x)) if has else None,
        min=float(x[0]) if has else None,
        max=float(x[-1]) if has else None,
        infinite=infinite,
        **common,
    )


def _categorical_from_chunks(
    chunks: list[Any], common: dict[str, Any], max_categories: int
) -> CategoricalColumn:
    import pyarrow as pa

    from modelward.profiling.tabular import category_counts

    nulls = sum(c.null_count for c in chunks)
    pairs = [category_counts(c) for c in chunks if len(c)]
    if not pairs:
        return CategoricalColumn(
            nulls=nulls,
            categories=(),
            counts=np.empty(0, np.int64),
            other=0,
            exact=True,
            **common,
        )
    table = pa.table(
        {
            "v": pa.chunked_array([p[0] for p in pairs], type=pa.string()),
            "c": np.concatenate([p[1] for p in pairs]),
        }
    )
    if len(pairs) > 1:
        grouped = table.group_by("v", use_threads=False).aggregate([("c", "sum")])
        table = grouped.select(["v", "c_sum"]).rename_columns(["v", "c"])
    table = table.sort_by([("c", "descending"), ("v", "ascending")])
    head = table.slice(0, max_categories)
    counts = np.asarray(head.column("c").to_numpy(), dtype=np.int64)
    total = int(np.asarray(table.column("c").to_numpy()).sum())
    other = total - int(counts.sum())
    return CategoricalColumn(
        nulls=nulls,
        categories=tuple(head.column("v").to_pylist()),
        counts=counts,
        other=other,
        exact=other == 0,
        **common,
    )
