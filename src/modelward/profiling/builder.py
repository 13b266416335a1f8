"""Streaming profile builder: feed batches, get a :class:`DatasetProfile`, in bounded memory.

Memory per column is fixed whatever the row count: a numeric column keeps its moments, a
histogram of ``histogram_bins`` counters and a sample of ``sample_size`` values; a categorical
column keeps at most ``10 * max_categories`` distinct values with counts.

The result does not depend on how rows are split into batches (the sample and histogram are
batch-invariant, see :mod:`modelward.profiling._sketch`), except for floating-point rounding of
the mean and standard deviation and, for columns with more than ``10 * max_categories`` distinct
values, which rare values were dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from modelward.errors import InvalidInput
from modelward.profiling._sketch import (
    BottomKSample,
    GridHistogram,
    row_keys,
    smallest_key_positions,
)
from modelward.profiling.entities import (
    DEFAULT_QUANTILES,
    CategoricalSummary,
    ColumnKind,
    ColumnProfile,
    DatasetProfile,
    Histogram,
    NumericSummary,
    quantiles_of,
)
from modelward.profiling.tabular import (
    arrow_indices,
    category_counts,
    column_kind,
    is_integer_type,
    merge_counts,
    numeric_values,
    rank_by_count,
    select_columns,
    to_table,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DEFAULT_HISTOGRAM_BINS",
    "DEFAULT_MAX_CATEGORIES",
    "DEFAULT_SAMPLE_SIZE",
    "ProfileBuilder",
    "profile_table",
]

#: Values sampled per numeric column (32 KiB each; see docs/profiles.md for the error).
DEFAULT_SAMPLE_SIZE = 4096
#: Categorical values listed per column; the rest are counted as "other".
DEFAULT_MAX_CATEGORIES = 1000
#: Bins of the power-of-two histogram grid (after trimming, between about 16 and 64 remain).
DEFAULT_HISTOGRAM_BINS = 64
#: Distinct categorical values tracked per column, as a multiple of ``max_categories``.
_TRACK_FACTOR = 10


class _KeyCache:
    """Row keys and sample candidates shared by the columns of one update.

    Columns without nulls in a chunk share the same candidate rows, so the selection over a
    million keys is done once per chunk, not once per column.
    """

    def __init__(self) -> None:
        self._keys: dict[tuple[int, int], NDArray[np.uint64]] = {}
        self._positions: dict[tuple[int, int, int | None], NDArray[np.intp]] = {}
        self._scratch = np.empty(0, dtype=np.float64)

    def scratch(self, size: int) -> NDArray[np.float64]:
        """A reusable float64 buffer of ``size`` (saves page faults on every column)."""
        if self._scratch.size < size:
            self._scratch = np.empty(size, dtype=np.float64)
        return self._scratch[:size]

    def keys(self, offset: int, length: int) -> NDArray[np.uint64]:
        key = (offset, length)
        if key not in self._keys:
            self._keys[key] = row_keys(offset, length)
        return self._keys[key]

    def positions(self, offset: int, length: int, k: int, below: int | None) -> NDArray[np.intp]:
        key = (offset, length, below)
        if key not in self._positions:
            self._positions[key] = smallest_key_positions(self.keys(offset, length), k, below)
        return self._positions[key]


class _NumericState:
    def __init__(self, sample_size: int, bins: int, integer: bool) -> None:
        self.count = 0
        self.nulls = 0
        self.infinite = 0
        self.n = 0  # finite values
        self.mean = 0.0
        self.m2 = 0.0
        self.lo = math.inf
        self.hi = -math.inf
        self.sample = BottomKSample(sample_size)
        self.hist = GridHistogram(bins, integer=integer)

    def update(self, chunk: pa.Array, offset: int, cache: _KeyCache) -> None:
        values = numeric_values(chunk)
        total = float(np.sum(values))
        # NaN and inf propagate into the sum, so a finite sum proves every value finite (an
        # overflowing sum only sends us down the slower, equally correct path).
        all_finite = math.isfinite(total)
        if all_finite:
            x = values
            missing = 0
        else:
            finite = np.isfinite(values)
            missing = int(np.count_nonzero(np.isnan(values)))
            self.infinite += values.size - missing - int(np.count_nonzero(finite))
            x = values[finite]
            total = float(np.sum(x))
        self.nulls += missing
        self.count += values.size - missing
        if x.size == 0:
            return
        lo, hi = float(x.min()), float(x.max())
        mean_b = total / x.size
        scratch = cache.scratch(x.size)
        np.subtract(x, mean_b, out=scratch)
        # einsum, not np.dot: OpenBLAS threads busy-wait and slow everything on a busy machine.
        m2_b = float(np.einsum("i,i->", scratch, scratch))
        # Chan et al.'s pairwise update of count, mean and sum of squared deviations.
        n_b = x.size
        n_all = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n_all
        self.m2 += m2_b + delta * delta * self.n * n_b / n_all
        self.n = n_all
        self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
        self.hist.add(x, lo, hi, scratch)
        k = self.sample.k
        below = self.sample.threshold
        if all_finite:
            pos = cache.positions(offset, values.size, k, below)
            keys = cache.keys(offset, values.size)[pos]
        else:
            finite_keys = cache.keys(offset, values.size)[finite]
            pos = smallest_key_positions(finite_keys, k, below)
            keys = finite_keys[pos]
        self.sample.add(keys, x[pos])

    def summary(self, quantiles: Sequence[float]) -> NumericSummary:
        sample = self.sample.sorted_values()
        edges, counts = self.hist.edges_and_counts()
        has = self.n > 0
        return NumericSummary(
            min=self.lo if has else None,
            max=self.hi if has else None,
            mean=self.mean if has else None,
            std=math.sqrt(max(self.m2, 0.0) / self.n) if has else None,
            infinite=self.infinite,
            quantiles=quantiles_of(sample, quantiles),
            histogram=Histogram(edges=edges, counts=counts),
            sample=sample,
            sample_exact=sample.size == self.n,
        )


class _CategoricalState:
    def __init__(self, max_categories: int) -> None:
        self.max_categories = max_categories
        self.track = max_categories * _TRACK_FACTOR
        self.count = 0
        self.nulls = 0
        self.values: pa.Array | None = None
        self.counts: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.pruned = 0  # values dropped into "other" to bound memory
        self.count_error = 0
        self.cardinality_seen = 0
        self.exact = True

    def update(self, chunk: pa.Array) -> None:
        self.nulls += chunk.null_count
        self.count += len(chunk) - chunk.null_count
        values, counts = category_counts(chunk)
        if self.values is None or len(self.values) == 0:
            self.values, self.counts = values, counts
        elif len(values):
            self.values, self.counts = merge_counts([self.values, values], [self.counts, counts])
        self.cardinality_seen = max(self.cardinality_seen, len(self.counts))
        if len(self.counts) > self.track:
            self._prune()

    def _prune(self) -> None:
        assert self.values is not None
        order = np.argsort(-self.counts, kind="stable")
        keep, drop = np.sort(order[: self.track]), order[self.track :]
        self.pruned += int(self.counts[drop].sum())
        # A value dropped now and seen again later is undercounted by at most its dropped count.
        self.count_error += int(self.counts[drop].max())
        self.values = self.values.take(arrow_indices(keep))
        self.counts = self.counts[keep]
        self.exact = False

    def summary(self) -> CategoricalSummary:
        if self.values is None or len(self.values) == 0:
            return CategoricalSummary(top=(), other_count=0, cardinality=0)
        order = rank_by_count(self.values, self.counts)[: self.max_categories]
        names = self.values.take(arrow_indices(order)).to_pylist()
        top = tuple(zip(names, (int(c) for c in self.counts[order]), strict=True))
        listed = sum(c for _, c in top)
        return CategoricalSummary(
            top=top,
            other_count=self.count - listed,
            cardinality=self.cardinality_seen if not self.exact else len(self.counts),
            cardinality_exact=self.exact,
            count_error=self.count_error,
        )


class _OtherState:
    def __init__(self) -> None:
        self.count = 0
        self.nulls = 0

    def update(self, chunk: pa.Array) -> None:
        self.nulls += chunk.null_count
        self.count += len(chunk) - chunk.null_count


class ProfileBuilder:
    """Build a :class:`DatasetProfile` from batches, in bounded memory.

    Example::

        builder = ProfileBuilder()
        for batch in pyarrow.parquet.ParquetFile(path).iter_batches():
            builder.update(batch)
        profile = builder.finish()

    Args:
        columns: Columns to profile (default: all, in table order).
        categorical: Columns to summarise as categorical even if numeric (e.g. integer codes);
            their values are compared as strings.
        sample_size: Values sampled per numeric column (>= 16).
        max_categories: Categorical values listed per column (>= 1).
        histogram_bins: Size of the histogram grid (>= 4).
        quantiles: Quantiles reported per numeric column, each in [0, 1].
    """

    def __init__(
        self,
        *,
        columns: Sequence[str] | None = None,
        categorical: Iterable[str] = (),
        sample_size: int = DEFAULT_SAMPLE_SIZE,
        max_categories: int = DEFAULT_MAX_CATEGORIES,
        histogram_bins: int = DEFAULT_HISTOGRAM_BINS,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
    ) -> None:
        if sample_size < 16:
            raise InvalidInput(f"sample_size must be at least 16, got {sample_size}")
        if max_categories < 1:
            raise InvalidInput(f"max_categories must be at least 1, got {max_categories}")
        if histogram_bins < 4:
            raise InvalidInput(f"histogram_bins must be at least 4, got {histogram_bins}")
        if any(not 0.0 <= q <= 1.0 for q in quantiles):
            raise InvalidInput(f"quantiles must lie in [0, 1], got {list(quantiles)}")
        self.columns = list(columns) if columns is not None else None
        self.categorical = frozenset(categorical)
        self.sample_size = sample_size
        self.max_categories = max_categories
        self.histogram_bins = histogram_bins
        self.quantiles = tuple(sorted(float(q) for q in quantiles))
        self._rows = 0
        self._batches = 0
        self._schema: list[tuple[str, pa.DataType, bool, ColumnKind]] | None = None
        self._states: list[_NumericState | _CategoricalState | _OtherState] = []

    @property
    def row_count(self) -> int:
        """Rows seen so far."""
        return self._rows

    def update(self, data: Any) -> ProfileBuilder:
        """Add a batch: a ``pyarrow.Table``/``RecordBatch`` or a ``pandas.DataFrame``.

        Every batch must have the first batch's columns with the same kinds of types.

        Returns:
            ``self``, so calls can be chained.
        """
        table = to_table(data, what=f"batch {self._batches + 1}")
        if self._schema is None:
            self._start(table)
        assert self._schema is not None
        import pyarrow as pa

        cache = _KeyCache()
        for index, (name, _type, _nullable, kind) in enumerate(list(self._schema)):
            state = self._states[index]
            if name not in table.column_names:
                raise InvalidInput(
                    f"batch {self._batches + 1} has no column {name!r}, which the first batch "
                    "had; every batch must have the same columns"
                )
            column = table.column(name)
            new_kind = column_kind(column.type, categorical=name in self.categorical)
            if column.null_count == len(column):
                state.nulls += len(column)  # all missing: no type to check, nothing to count
                continue
            if _type == pa.null():
                # The first batches held only nulls (no type then); the first values decide.
                state = self._retype(index, column.type, state.nulls)
                _type, kind = column.type, new_kind
            if new_kind is not kind:
                raise InvalidInput(
                    f"column {name!r} is {kind.value} ({_type}) in the first batch but "
                    f"{new_kind.value} ({column.type}) in batch {self._batches + 1}; "
                    "cast it to one type before profiling"
                )
            offset = self._rows
            for chunk in column.chunks:
                if len(chunk) == 0:
                    continue
                if isinstance(state, _NumericState):
                    state.update(chunk, offset, cache)
                else:
                    state.update(chunk)
                offset += len(chunk)
        self._rows += table.num_rows
        self._batches += 1
        return self

    def _start(self, table: pa.Table) -> None:
        names = select_columns(table.column_names, self.columns, what="the first batch")
        unknown = self.categorical - set(table.column_names)
        if unknown:
            raise InvalidInput(
                f"categorical names column(s) the data lacks: {', '.join(sorted(unknown))}"
            )
        self._schema, self._states = [], []
        for name in names:
            field = table.schema.field(name)
            kind = column_kind(field.type, categorical=name in self.categorical)
            self._schema.append((name, field.type, bool(field.nullable), kind))
            self._states.append(self._new_state(kind, field.type))

    def _new_state(
        self, kind: ColumnKind, arrow_type: pa.DataType
    ) -> _NumericState | _CategoricalState | _OtherState:
        if kind is ColumnKind.NUMERIC:
            integer = is_integer_type(arrow_type)
            return _NumericState(self.sample_size, self.histogram_bins, integer)
        if kind is ColumnKind.CATEGORICAL:
            return _CategoricalState(self.max_categories)
        return _OtherState()

    def _retype(
        self, index: int, arrow_type: pa.DataType, nulls: int
    ) -> _NumericState | _CategoricalState | _OtherState:
        assert self._schema is not None
        name, _old, nullable, _kind = self._schema[index]
        kind = column_kind(arrow_type, categorical=name in self.categorical)
        state = self._new_state(kind, arrow_type)
        state.nulls = nulls
        self._schema[index] = (name, arrow_type, nullable, kind)
        self._states[index] = state
        return state

    def finish(self) -> DatasetProfile:
        """Return the profile of every row seen (an empty profile if none was)."""
        columns = []
        for (name, dtype, nullable, kind), state in zip(
            self._schema or [], self._states, strict=True
        ):
            numeric = state.summary(self.quantiles) if isinstance(state, _NumericState) else None
            categorical = state.summary() if isinstance(state, _CategoricalState) else None
            columns.append(
                ColumnProfile(
                    name=name,
                    dtype=str(dtype),
                    nullable=nullable,
                    kind=kind,
                    count=state.count,
                    nulls=state.nulls,
                    numeric=numeric,
                    categorical=categorical,
                )
            )
        return DatasetProfile(
            row_count=self._rows,
            columns=tuple(columns),
            sample_size=self.sample_size,
            max_categories=self.max_categories,
            histogram_bins=self.histogram_bins,
        )


def profile_table(data: Any, **options: Any) -> DatasetProfile:
    """Profile a whole table (or an iterable of batches) in one call.

    Args:
        data: A ``pyarrow.Table``/``RecordBatch``, a ``pandas.DataFrame``, or an iterable of
            those (e.g. ``ParquetFile.iter_batches()`` or a ``RecordBatchReader``).
        **options: Passed to :class:`ProfileBuilder`.
    """
    builder = ProfileBuilder(**options)
    import pyarrow as pa

    from modelward.profiling.tabular import is_dataframe

    if isinstance(data, pa.Table | pa.RecordBatch) or is_dataframe(data):
        builder.update(data)
    elif isinstance(data, Iterable):
        for batch in data:
            builder.update(batch)
    else:
        builder.update(data)  # raises a clear InvalidInput for unsupported types
    return builder.finish()
