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
        dtypes: Arrow type of every column the window has (requested or not), in order.
        kinds: How every column would be summarised.
        summaries: Summaries computed up front, by name.
        from_profile: Whether it was built from a stored profile.
        source: For a lazy window, the table whose columns :meth:`column` summarises on
            demand (one at a time, so a wide table never has every sorted copy alive at once).
    """

    rows: int
    dtypes: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, ColumnKind] = field(default_factory=dict)
    summaries: dict[str, Column] = field(default_factory=dict)
    from_profile: bool = False
    source: Any = None
    categorical: frozenset[str] = frozenset()
    max_categories: int = 1000

    def has(self, name: str) -> bool:
        """Whether the window has column ``name``."""
        return name in self.dtypes

    def column(self, name: str) -> Column | None:
        """Return the summary of ``name`` (``None`` if the window lacks it).

        Lazy windows compute it now and do not keep it.
        """
        found = self.summaries.get(name)
        if found is not None or self.source is None or name not in self.dtypes:
            return found
        return _summarize_column(self.source, name, self.categorical, self.max_categories)


def summarize(
    data: Any,
    *,
    columns: Iterable[str] | None = None,
    categorical: Collection[str] = (),
    max_categories: int = 1000,
    what: str = "data",
    lazy: bool = False,
) -> Window:
    """Summarise ``data`` (a table, DataFrame, RecordBatch or :class:`DatasetProfile`).

    Args:
        data: The window.
        columns: Columns to summarise (default: all); names the data lacks are skipped (the
            caller reports them).
        categorical: Numeric columns to treat as categorical (compared as strings).
        max_categories: Most values listed per categorical column; the rest become "other".
        what: Name of the window in error messages.
        lazy: For tables, summarise columns only when :meth:`Window.column` asks (the window
            then keeps a reference to the table).
    """
    if isinstance(data, DatasetProfile):
        return _from_profile(data, columns, categorical)
    return _from_table(data, columns, frozenset(categorical), max_categories, what, lazy)


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
    return Window(
        rows=profile.row_count,
        dtypes={c.name: c.dtype for c in profile.columns},
        kinds={c.name: c.kind for c in profile.columns},
        summaries=out,
        from_profile=True,
    )


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
    categorical: frozenset[str],
    max_categories: int,
    what: str,
    lazy: bool,
) -> Window:
    from modelward.profiling.tabular import column_kind, to_table

    table = to_table(data, what=what)
    kinds = {f.name: column_kind(f.type, categorical=f.name in categorical) for f in table.schema}
    summaries: dict[str, Column] = {}
    if not lazy:
        wanted = list(columns) if columns is not None else list(table.column_names)
        for name in wanted:
            if name in kinds:
                summaries[name] = _summarize_column(table, name, categorical, max_categories)
    return Window(
        rows=table.num_rows,
        dtypes={f.name: str(f.type) for f in table.schema},
        kinds=kinds,
        summaries=summaries,
        source=table if lazy else None,
        categorical=categorical,
        max_categories=max_categories,
    )


def _summarize_column(
    table: Any, name: str, categorical: Collection[str], max_categories: int
) -> Column:
    from modelward.profiling.tabular import column_kind

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
        return _numeric_from_chunks(column.chunks, common)
    if kind is ColumnKind.CATEGORICAL:
        return _categorical_from_chunks(column.chunks, common, max_categories)
    return OtherColumn(nulls=column.null_count, **common)


def _numeric_from_chunks(chunks: list[Any], common: dict[str, Any]) -> NumericColumn:
    from modelward.profiling.tabular import numeric_values

    parts = [numeric_values(c) for c in chunks if len(c)]
    owned = len(parts) != 1  # a concatenation is ours to sort in place; a single view is not
    if len(parts) == 1:
        values = parts[0]
    else:
        values = np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)
    del parts
    total = float(np.sum(values)) if values.size else 0.0
    if np.isfinite(total):  # NaN or inf anywhere would poison the sum
        x = values if owned else values.copy()
        nulls = infinite = 0
    else:
        total = 0.0
        nan = np.isnan(values)
        nulls = int(np.count_nonzero(nan))
        finite = np.isfinite(values)
        infinite = values.size - nulls - int(np.count_nonzero(finite))
        x = values[finite]
        total = float(np.sum(x))
    del values
    x.sort()
    has = x.size > 0
    mean = std = None
    if has:
        mean = total / x.size
        dev = x - mean
        std = float(np.sqrt(np.einsum("i,i->", dev, dev) / x.size))
        del dev
    return NumericColumn(
        nulls=nulls,
        values=x,
        exact=True,
        finite=int(x.size),
        mean=mean,
        std=std,
        min=float(x[0]) if has else None,
        max=float(x[-1]) if has else None,
        infinite=infinite,
        **common,
    )


def _categorical_from_chunks(
    chunks: list[Any], common: dict[str, Any], max_categories: int
) -> CategoricalColumn:
    from modelward.profiling.tabular import (
        arrow_indices,
        category_counts,
        merge_counts,
        rank_by_count,
    )

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
    values, counts = merge_counts([p[0] for p in pairs], [p[1] for p in pairs])
    order = rank_by_count(values, counts)[:max_categories]
    listed = counts[order]
    other = int(counts.sum()) - int(listed.sum())
    return CategoricalColumn(
        nulls=nulls,
        categories=tuple(values.take(arrow_indices(order)).to_pylist()),
        counts=listed,
        other=other,
        exact=other == 0,
        **common,
    )
