"""Drift report entities: per-column results, schema issues and the dataset verdict. No I/O.

The headline never hides column-level drift: besides the share-based ``dataset_drifted`` flag,
:attr:`DriftReport.verdict` is ``"column_drift"`` as soon as any column drifted, and
:attr:`DriftReport.summary` names the drifted columns first.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from modelward.monitoring.schema import SchemaIssue

__all__ = [
    "ColumnDrift",
    "ColumnRole",
    "ColumnStatus",
    "DriftPlot",
    "DriftReport",
    "DriftVerdict",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class ColumnRole(enum.StrEnum):
    """Whether a column is a model input or a model output."""

    FEATURE = "feature"
    PREDICTION = "prediction"


class ColumnStatus(enum.StrEnum):
    """Whether a column could be compared."""

    OK = "ok"
    #: One window has no (finite, non-null) value of the column.
    NO_DATA = "no_data"
    #: The type has no distribution summary (timestamps, binary, nested).
    UNSUPPORTED = "unsupported"
    #: Missing from the current data or of another kind of type; see the schema issues.
    SCHEMA = "schema"


class DriftVerdict(enum.StrEnum):
    """Dataset-level headline."""

    NO_DRIFT = "no_drift"
    #: Some columns drifted, fewer than ``drift_share`` of the features.
    COLUMN_DRIFT = "column_drift"
    #: At least ``drift_share`` of the feature columns drifted.
    DATASET_DRIFT = "dataset_drift"


@dataclass(frozen=True, slots=True)
class DriftPlot:
    """Small data to draw reference vs current for one column.

    Attributes:
        kind: ``"histogram"`` (numeric: ``bins`` has one more edge than the fractions) or
            ``"bars"`` (categorical: ``bins`` are the category labels).
        bins: Bin edges or category labels.
        reference: Share of reference values per bin.
        current: Share of current values per bin.
    """

    kind: str
    bins: tuple[float | str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "kind": self.kind,
            "bins": list(self.bins),
            "reference": list(self.reference),
            "current": list(self.current),
        }


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """Drift result for one column.

    Attributes:
        column: Column name.
        role: Feature or prediction.
        kind: ``"numeric"``, ``"categorical"`` or ``"other"``.
        status: Whether the column could be compared.
        method: Statistic used (``ks``, ``wasserstein``, ``psi``, ``chisquare``,
            ``jensenshannon``), ``None`` when not compared.
        statistic: Its value (the normalised distance for ``wasserstein``).
        p_value: Raw p-value, for tests (``ks``, ``chisquare``).
        p_value_adjusted: p-value after the multiple-testing correction; compared with
            ``threshold`` (= the report's ``alpha``).
        threshold: Significance level (tests) or distance threshold (distances).
        drifted: Tests: ``p_value_adjusted < threshold``; distances: ``statistic >= threshold``.
        reference_count: Values compared on the reference side (the sample size when the
            reference is a profile).
        current_count: Values compared on the current side.
        approximate: Whether a side was a sample (profile) rather than every value.
        details: Extra facts (e.g. unseen categories, means).
        plot: Reference vs current distribution for a chart.
    """

    column: str
    role: ColumnRole
    kind: str
    status: ColumnStatus
    method: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None
    threshold: float | None = None
    drifted: bool = False
    reference_count: int = 0
    current_count: int = 0
    approximate: bool = False
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    plot: DriftPlot | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (non-finite numbers become ``None``)."""
        return {
            "column": self.column,
            "role": self.role.value,
            "kind": self.kind,
            "status": self.status.value,
            "method": self.method,
            "statistic": _num(self.statistic),
            "p_value": _num(self.p_value),
            "p_value_adjusted": _num(self.p_value_adjusted),
            "threshold": _num(self.threshold),
            "drifted": self.drifted,
            "reference_count": self.reference_count,
            "current_count": self.current_count,
            "approximate": self.approximate,
            "details": dict(self.details),
            "plot": self.plot.to_dict() if self.plot is not None else None,
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Drift between a reference and a current window.

    Attributes:
        columns: One result per compared column (features, then predictions).
        schema_issues: Missing, unexpected and retyped columns.
        reference_rows: Rows in the reference.
        current_rows: Rows in the current window.
        drift_share: Share of drifted feature columns at which ``dataset_drifted`` is set.
        alpha: Significance level of the p-value tests, after correction.
        correction: Multiple-testing correction applied across tested columns.
    """

    columns: tuple[ColumnDrift, ...]
    schema_issues: tuple[SchemaIssue, ...]
    reference_rows: int
    current_rows: int
    drift_share: float
    alpha: float
    correction: str

    @property
    def features(self) -> tuple[ColumnDrift, ...]:
        """Feature columns that could be compared (status ``ok``)."""
        return tuple(
            c for c in self.columns if c.role is ColumnRole.FEATURE and c.status is ColumnStatus.OK
        )

    @property
    def n_columns(self) -> int:
        """Feature columns compared."""
        return len(self.features)

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """Names of every drifted column, features and predictions."""
        return tuple(c.column for c in self.columns if c.drifted)

    @property
    def n_drifted(self) -> int:
        """Drifted feature columns."""
        return sum(1 for c in self.features if c.drifted)

    @property
    def share(self) -> float:
        """Share of compared feature columns that drifted (0.0 when none was compared)."""
        return self.n_drifted / self.n_columns if self.n_columns else 0.0

    @property
    def dataset_drifted(self) -> bool:
        """Whether at least ``drift_share`` of the feature columns drifted."""
        return self.n_columns > 0 and self.share >= self.drift_share

    @property
    def prediction_drifted(self) -> bool:
        """Whether any prediction column drifted."""
        return any(c.drifted for c in self.columns if c.role is ColumnRole.PREDICTION)

    @property
    def verdict(self) -> DriftVerdict:
        """``dataset_drift``, ``column_drift`` (some column drifted) or ``no_drift``."""
        if self.dataset_drifted:
            return DriftVerdict.DATASET_DRIFT
        if self.drifted_columns:
            return DriftVerdict.COLUMN_DRIFT
        return DriftVerdict.NO_DRIFT

    @property
    def summary(self) -> str:
        """One paragraph for a person: drifted columns first, then the verdict and issues."""
        parts = []
        if self.drifted_columns:
            parts.append(
                f"{self.n_drifted} of {self.n_columns} feature columns drifted "
                f"({self.share:.0%}): {', '.join(c for c in self.drifted_columns)}."
            )
        else:
            parts.append(f"No drift in {self.n_columns} feature columns.")
        relation = ">=" if self.dataset_drifted else "<"
        parts.append(
            f"Dataset drift {'detected' if self.dataset_drifted else 'not detected'} "
            f"(share {self.share:.0%} {relation} {self.drift_share:.0%})."
        )
        preds = [c for c in self.columns if c.role is ColumnRole.PREDICTION]
        if preds:
            drifted = [c.column for c in preds if c.drifted]
            parts.append(
                f"Prediction drift: {', '.join(drifted)}." if drifted else "No prediction drift."
            )
        errors = [i for i in self.schema_issues if i.severity == "error"]
        if errors:
            parts.append("Schema: " + "; ".join(i.message for i in errors) + ".")
        skipped = [c.column for c in self.columns if c.status is ColumnStatus.NO_DATA]
        if skipped:
            parts.append(f"No data to compare: {', '.join(skipped)}.")
        return " ".join(parts)

    def column(self, name: str) -> ColumnDrift:
        """Return the result for column ``name``.

        Raises:
            NotFound: No result for that column.
        """
        from modelward.errors import NotFound

        for c in self.columns:
            if c.column == name:
                return c
        raise NotFound(f"the drift report has no column {name!r}", details={"column": name})

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form, headline first."""
        return {
            "verdict": self.verdict.value,
            "summary": self.summary,
            "dataset_drifted": self.dataset_drifted,
            "prediction_drifted": self.prediction_drifted,
            "n_columns": self.n_columns,
            "n_drifted": self.n_drifted,
            "share": self.share,
            "drift_share": self.drift_share,
            "drifted_columns": list(self.drifted_columns),
            "alpha": self.alpha,
            "correction": self.correction,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "schema_issues": [i.to_dict() for i in self.schema_issues],
            "columns": [c.to_dict() for c in self.columns],
        }


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
