"""Profile entities: what a dataset profile holds, and its JSON form. No I/O here.

A :class:`DatasetProfile` is a compact, mergeable summary of a table: per column its Arrow type,
counts, and either a :class:`NumericSummary` (moments, quantiles, an exact histogram and a
uniform sample of the values) or a :class:`CategoricalSummary` (top values with counts and an
"other" count). Drift and data-quality checks can run against a stored profile alone, so a
reference dataset need not be reloaded. ``docs/profiles.md`` states the accuracy of each field.

``to_dict()`` gives plain JSON types (the sample as base64 of little-endian float64);
``from_dict()`` reads it back, raising :class:`~modelward.errors.InvalidInput` on a malformed
document.
"""

from __future__ import annotations

import base64
import enum
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelward.errors import InvalidInput, NotFound

__all__ = [
    "DEFAULT_QUANTILES",
    "PROFILE_FORMAT",
    "CategoricalSummary",
    "ColumnKind",
    "ColumnProfile",
    "DatasetProfile",
    "Histogram",
    "NumericSummary",
]

#: Identifies the JSON layout written by :meth:`DatasetProfile.to_dict`.
PROFILE_FORMAT = "modelward.profile/1"
#: Quantiles every numeric summary reports.
DEFAULT_QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)

_SAMPLE_ENCODING = "float64-le-base64"


class ColumnKind(enum.StrEnum):
    """How a column is summarised (and later compared)."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    #: Types with no distribution summary (timestamps, binary, nested, all-null): counts only.
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Histogram:
    """Equal-width histogram with exact counts.

    Attributes:
        edges: ``len(counts) + 1`` ascending bin edges; bins are ``[edges[i], edges[i+1])``.
        counts: Values per bin. Empty when the column has no finite values.
    """

    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"edges": list(self.edges), "counts": list(self.counts)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        """Read the form written by :meth:`to_dict`."""
        edges = tuple(float(x) for x in _get(data, "edges", "histogram"))
        counts = tuple(int(x) for x in _get(data, "counts", "histogram"))
        if counts and len(edges) != len(counts) + 1:
            raise InvalidInput(
                f"histogram has {len(counts)} counts but {len(edges)} edges; "
                "expected one more edge than counts"
            )
        return cls(edges=edges, counts=counts)


@dataclass(frozen=True, slots=True, eq=False)
class NumericSummary:
    """Distribution of a numeric column's finite values.

    Attributes:
        min: Smallest finite value (exact), ``None`` without finite values.
        max: Largest finite value (exact).
        mean: Mean of the finite values (exact up to floating-point rounding).
        std: Population standard deviation (``ddof=0``) of the finite values.
        infinite: Number of ``+inf``/``-inf`` values (counted in the column's ``count``, left
            out of every other statistic).
        quantiles: ``(q, value)`` pairs, linear interpolation on :attr:`sample` (exact when
            :attr:`sample_exact`, else rank error about ``1/sqrt(len(sample))``).
        histogram: Equal-width histogram with exact counts.
        sample: Sorted, read-only ``float64`` array: a uniform random sample (without
            replacement) of the finite values, or all of them when :attr:`sample_exact`.
        sample_exact: Whether :attr:`sample` holds every finite value.
    """

    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    infinite: int
    quantiles: tuple[tuple[float, float], ...]
    histogram: Histogram
    sample: NDArray[np.float64]
    sample_exact: bool

    def __post_init__(self) -> None:
        arr = np.array(self.sample, dtype=np.float64, copy=True)
        arr.flags.writeable = False
        object.__setattr__(self, "sample", arr)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumericSummary):
            return NotImplemented
        return (
            self.min == other.min
            and self.max == other.max
            and self.mean == other.mean
            and self.std == other.std
            and self.infinite == other.infinite
            and self.quantiles == other.quantiles
            and self.histogram == other.histogram
            and self.sample_exact == other.sample_exact
            and np.array_equal(self.sample, other.sample)
        )

    __hash__ = None  # type: ignore[assignment]

    def quantile(self, q: float) -> float | None:
        """Return the ``q``-quantile estimated from :attr:`sample` (``None`` if empty)."""
        if not 0.0 <= q <= 1.0:
            raise InvalidInput(f"a quantile must lie in [0, 1], got {q}")
        if self.sample.size == 0:
            return None
        return float(np.quantile(self.sample, q))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (the sample as base64 of little-endian float64)."""
        raw = self.sample.astype("<f8", copy=False).tobytes()
        return {
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
            "infinite": self.infinite,
            "quantiles": {_qkey(q): v for q, v in self.quantiles},
            "histogram": self.histogram.to_dict(),
            "sample": {
                "encoding": _SAMPLE_ENCODING,
                "exact": self.sample_exact,
                "size": int(self.sample.size),
                "data": base64.b64encode(raw).decode("ascii"),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericSummary:
        """Read the form written by :meth:`to_dict`."""
        sample = _get(data, "sample", "numeric summary")
        if sample.get("encoding") != _SAMPLE_ENCODING:
            raise InvalidInput(
                f"unknown sample encoding {sample.get('encoding')!r}; "
                f"this modelward reads {_SAMPLE_ENCODING!r}"
            )
        try:
            raw = base64.b64decode(sample["data"], validate=True)
            values = np.frombuffer(raw, dtype="<f8").astype(np.float64)
        except (KeyError, ValueError) as exc:
            raise InvalidInput(f"profile sample is not valid base64 float64 data: {exc}") from exc
        if values.size != int(sample.get("size", values.size)):
            raise InvalidInput(
                f"profile sample holds {values.size} values but says size={sample.get('size')}"
            )
        quantiles = tuple(
            sorted((float(k), float(v)) for k, v in _get(data, "quantiles", "numeric").items())
        )
        return cls(
            min=_opt_float(data.get("min")),
            max=_opt_float(data.get("max")),
            mean=_opt_float(data.get("mean")),
            std=_opt_float(data.get("std")),
            infinite=int(data.get("infinite", 0)),
            quantiles=quantiles,
            histogram=Histogram.from_dict(_get(data, "histogram", "numeric summary")),
            sample=values,
            sample_exact=bool(sample.get("exact", False)),
        )


@dataclass(frozen=True, slots=True)
class CategoricalSummary:
    """Frequencies of a categorical column's values (strings; booleans as ``"true"/"false"``).

    Attributes:
        top: ``(value, count)`` pairs, most frequent first (ties by value), at most the
            profile's ``max_categories``.
        other_count: Non-null values not listed in :attr:`top`.
        cardinality: Number of distinct non-null values; a lower bound when not
            :attr:`cardinality_exact`.
        cardinality_exact: False once the builder had to drop rare values to bound memory.
        count_error: Upper bound on how much any listed count may be below the truth (0 when
            every value was counted exactly).
    """

    top: tuple[tuple[str, int], ...]
    other_count: int
    cardinality: int
    cardinality_exact: bool = True
    count_error: int = 0

    @property
    def complete(self) -> bool:
        """Whether :attr:`top` lists every value seen (nothing fell into "other")."""
        return self.other_count == 0 and self.cardinality_exact

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "top": [[v, c] for v, c in self.top],
            "other_count": self.other_count,
            "cardinality": self.cardinality,
            "cardinality_exact": self.cardinality_exact,
            "count_error": self.count_error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalSummary:
        """Read the form written by :meth:`to_dict`."""
        top = tuple((str(v), int(c)) for v, c in _get(data, "top", "categorical summary"))
        return cls(
            top=top,
            other_count=int(data.get("other_count", 0)),
            cardinality=int(data.get("cardinality", len(top))),
            cardinality_exact=bool(data.get("cardinality_exact", True)),
            count_error=int(data.get("count_error", 0)),
        )


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """Summary of one column.

    Attributes:
        name: Column name.
        dtype: Arrow type, as ``str(pyarrow.DataType)`` (e.g. ``"double"``, ``"string"``).
        nullable: Whether the schema allows nulls.
        kind: How the column is summarised.
        count: Non-missing values (infinities included).
        nulls: Missing values: nulls, and NaN in floating-point columns.
        numeric: Set when ``kind`` is numeric.
        categorical: Set when ``kind`` is categorical.
    """

    name: str
    dtype: str
    nullable: bool
    kind: ColumnKind
    count: int
    nulls: int
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None

    @property
    def null_rate(self) -> float:
        """Share of rows that are missing (0.0 for an empty table)."""
        rows = self.count + self.nulls
        return self.nulls / rows if rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "nullable": self.nullable,
            "kind": self.kind.value,
            "count": self.count,
            "nulls": self.nulls,
            "numeric": self.numeric.to_dict() if self.numeric is not None else None,
            "categorical": self.categorical.to_dict() if self.categorical is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        """Read the form written by :meth:`to_dict`."""
        try:
            kind = ColumnKind(_get(data, "kind", "column profile"))
        except ValueError as exc:
            raise InvalidInput(
                f"unknown column kind {data.get('kind')!r}; expected one of "
                f"{', '.join(k.value for k in ColumnKind)}"
            ) from exc
        numeric = data.get("numeric")
        categorical = data.get("categorical")
        return cls(
            name=str(_get(data, "name", "column profile")),
            dtype=str(_get(data, "dtype", "column profile")),
            nullable=bool(data.get("nullable", True)),
            kind=kind,
            count=int(_get(data, "count", "column profile")),
            nulls=int(_get(data, "nulls", "column profile")),
            numeric=NumericSummary.from_dict(numeric) if numeric is not None else None,
            categorical=(
                CategoricalSummary.from_dict(categorical) if categorical is not None else None
            ),
        )


@dataclass(frozen=True, slots=True)
class DatasetProfile:
    """Summary of a whole table, column by column.

    Attributes:
        row_count: Rows profiled.
        columns: One profile per column, in table order.
        sample_size: Largest numeric sample kept per column.
        max_categories: Most categorical values listed per column.
        histogram_bins: Size of the histogram grid the numeric histograms were built on.
    """

    row_count: int
    columns: tuple[ColumnProfile, ...] = field(default_factory=tuple)
    sample_size: int = 0
    max_categories: int = 0
    histogram_bins: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in table order."""
        return tuple(c.name for c in self.columns)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __iter__(self) -> Iterator[ColumnProfile]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def column(self, name: str) -> ColumnProfile:
        """Return the profile of column ``name``.

        Raises:
            NotFound: No such column.
        """
        for col in self.columns:
            if col.name == name:
                return col
        raise NotFound(
            f"the profile has no column {name!r}; its columns are: {', '.join(self.names)}",
            details={"column": name},
        )

    def merge(self, other: DatasetProfile, *, seed: int = 0) -> DatasetProfile:
        """Return the profile of both tables' rows together; see :func:`merge_profiles`."""
        from modelward.profiling.merge import merge_profiles

        return merge_profiles(self, other, seed=seed)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (``format`` names the layout version)."""
        return {
            "format": PROFILE_FORMAT,
            "row_count": self.row_count,
            "sample_size": self.sample_size,
            "max_categories": self.max_categories,
            "histogram_bins": self.histogram_bins,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        """Read the form written by :meth:`to_dict`.

        Raises:
            InvalidInput: The document is not a profile this version can read.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput(f"a profile must be a JSON object, not {type(data).__name__}")
        fmt = data.get("format")
        if fmt != PROFILE_FORMAT:
            raise InvalidInput(
                f"unknown profile format {fmt!r}; this modelward reads {PROFILE_FORMAT!r}"
            )
        columns = tuple(ColumnProfile.from_dict(c) for c in _get(data, "columns", "profile"))
        return cls(
            row_count=int(_get(data, "row_count", "profile")),
            columns=columns,
            sample_size=int(data.get("sample_size", 0)),
            max_categories=int(data.get("max_categories", 0)),
            histogram_bins=int(data.get("histogram_bins", 0)),
        )


def _get(data: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return data[key]
    except (KeyError, TypeError) as exc:
        raise InvalidInput(f"{what} is missing the field {key!r}") from exc


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _qkey(q: float) -> str:
    return repr(float(q))


def quantiles_of(
    sample: NDArray[np.float64], qs: Sequence[float]
) -> tuple[tuple[float, float], ...]:
    """Return ``(q, value)`` pairs from a sorted sample (empty when the sample is)."""
    if sample.size == 0:
        return ()
    values = np.quantile(sample, np.asarray(qs, dtype=np.float64))
    return tuple((float(q), float(v)) for q, v in zip(qs, values, strict=True))


def finite_or_none(value: float) -> float | None:
    """Return ``value`` as a float, or ``None`` when it is NaN or infinite."""
    return float(value) if math.isfinite(value) else None
