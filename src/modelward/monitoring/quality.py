"""Data quality of a current window against a reference (usually the training data's profile).

Checks, per column: the null rate against the reference's, the share of numeric values outside
the reference's [min, max] (the training range), infinite values the reference did not have,
categories the reference never had, nulls in a column the reference's schema declares
non-nullable; and for the table: missing, unexpected and retyped columns.

Usage::

    report = QualityChecker().fit(training_profile).score(todays_batch)
    if not report.passed:
        log.warning(report.summary)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelward.errors import InvalidInput
from modelward.monitoring._estimator import Estimator
from modelward.monitoring.columns import (
    CategoricalColumn,
    Column,
    NumericColumn,
    Window,
    summarize,
)
from modelward.monitoring.schema import SchemaIssue, compare_schemas

__all__ = ["ColumnQuality", "QualityChecker", "QualityReport", "check_quality"]


@dataclass(frozen=True, slots=True)
class ColumnQuality:
    """Quality findings for one column.

    Attributes:
        column: Column name.
        kind: ``"numeric"``, ``"categorical"`` or ``"other"``.
        checked: False when the column could not be checked (see the schema issues).
        null_rate_reference: Share of missing values in the reference.
        null_rate_current: Share of missing values now.
        out_of_range_share: Share of current finite values outside the reference's
            [min, max] (numeric only).
        below_min: Current values below the reference minimum (in the sample, for a profile).
        above_max: Current values above the reference maximum (same).
        infinite_current: Infinite values now (numeric only).
        unseen_categories: Up to 10 current categories the reference never had.
        unseen_share: Share of current values in categories the reference never had.
        reference_complete: Whether the reference lists all its categories (when it does
            not, a rare reference value cannot be told from a new one, so unseen categories
            are not flagged).
        approximate: Whether a side was a profile's sample rather than every value.
        issues: Codes of the checks that failed: ``null_rate``, ``unexpected_nulls``,
            ``out_of_range``, ``infinite_values``, ``unseen_categories``.
    """

    column: str
    kind: str
    checked: bool = True
    null_rate_reference: float = 0.0
    null_rate_current: float = 0.0
    out_of_range_share: float | None = None
    below_min: int | None = None
    above_max: int | None = None
    infinite_current: int | None = None
    unseen_categories: tuple[str, ...] = ()
    unseen_share: float | None = None
    reference_complete: bool | None = None
    approximate: bool = False
    issues: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        out = dataclasses.asdict(self)
        out["unseen_categories"] = list(self.unseen_categories)
        out["issues"] = list(self.issues)
        out["ok"] = self.ok
        return out


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Data quality of a current window.

    Attributes:
        columns: Findings per reference column.
        schema_issues: Missing, unexpected and retyped columns.
        reference_rows: Rows in the reference.
        current_rows: Rows in the current window.
        thresholds: The limits the checks used.
    """

    columns: tuple[ColumnQuality, ...]
    schema_issues: tuple[SchemaIssue, ...]
    reference_rows: int
    current_rows: int
    thresholds: dict[str, float]

    @property
    def failed_columns(self) -> tuple[str, ...]:
        """Columns with at least one failed check."""
        return tuple(c.column for c in self.columns if c.issues)

    @property
    def passed(self) -> bool:
        """No failed column check and no schema error (warnings do not fail)."""
        return not self.failed_columns and not any(
            i.severity == "error" for i in self.schema_issues
        )

    @property
    def summary(self) -> str:
        """One paragraph for a person."""
        if self.passed and not self.schema_issues:
            return f"All {len(self.columns)} columns passed the quality checks."
        parts = [f"{c.column}: {', '.join(c.issues)}" for c in self.columns if c.issues]
        parts.extend(i.message for i in self.schema_issues)
        verdict = "passed" if self.passed else "failed"
        return f"Quality checks {verdict}: " + "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "passed": self.passed,
            "summary": self.summary,
            "failed_columns": list(self.failed_columns),
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "thresholds": dict(self.thresholds),
            "schema_issues": [i.to_dict() for i in self.schema_issues],
            "columns": [c.to_dict() for c in self.columns],
        }


class QualityChecker(Estimator):
    """Check current data against a reference table or profile.

    A check fails when its value is strictly above its limit.

    Args:
        columns: Columns to check (default: every reference column).
        categorical: Numeric columns to treat as categories.
        max_null_rate_increase: Largest allowed rise of the null rate over the reference's,
            in absolute terms (0.05 = five percentage points).
        max_out_of_range_share: Largest allowed share of values outside the reference range.
            New values fall outside the range of ``n`` reference values with probability
            about ``2/n``, so keep this above that for small references.
        max_unseen_share: Largest allowed share of values in categories the reference never
            had (0.0: any unseen category fails).
        max_categories: Categories listed per column when summarising data.
    """

    def __init__(
        self,
        *,
        columns: Sequence[str] | None = None,
        categorical: Collection[str] = (),
        max_null_rate_increase: float = 0.05,
        max_out_of_range_share: float = 0.01,
        max_unseen_share: float = 0.0,
        max_categories: int = 1000,
    ) -> None:
        self.columns = columns
        self.categorical = categorical
        self.max_null_rate_increase = max_null_rate_increase
        self.max_out_of_range_share = max_out_of_range_share
        self.max_unseen_share = max_unseen_share
        self.max_categories = max_categories

    def fit(self, reference: Any) -> QualityChecker:
        """Learn the reference (table, DataFrame, RecordBatch or ``DatasetProfile``).

        Returns:
            ``self``.
        """
        for name in ("max_null_rate_increase", "max_out_of_range_share", "max_unseen_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidInput(f"{name} must lie in [0, 1], got {value}")
        window = summarize(
            reference,
            columns=self.columns,
            categorical=frozenset(self.categorical),
            max_categories=self.max_categories,
            what="reference",
        )
        if window.rows == 0:
            raise InvalidInput("the reference has no rows; fit on a non-empty table or profile")
        absent = [n for n in (self.columns or ()) if window.column(n) is None]
        if absent:
            raise InvalidInput(
                f"the reference has no column(s) {', '.join(map(repr, absent))}; "
                f"its columns are: {', '.join(window.dtypes)}"
            )
        self.reference_: Window = window
        self.feature_names_in_: tuple[str, ...] = tuple(window.summaries)
        return self

    def score(self, current: Any) -> QualityReport:
        """Check ``current`` (table, DataFrame, RecordBatch or profile).

        Raises:
            InvalidInput: Not fitted, or the current window has no rows.
        """
        self._check_fitted("reference_")
        ref = self.reference_
        cur = summarize(
            current,
            columns=self.feature_names_in_,
            categorical=frozenset(self.categorical),
            max_categories=self.max_categories,
            what="current window",
            lazy=True,
        )
        if cur.rows == 0:
            raise InvalidInput(
                "the current window has no rows, so there is nothing to check; "
                "skip this window or widen it"
            )
        issues = compare_schemas(ref, cur, self.feature_names_in_)
        blocked = {i.column for i in issues if i.severity == "error"}
        results = []
        for name in self.feature_names_in_:
            ref_col = ref.summaries[name]
            cur_col = cur.column(name)
            if name in blocked or cur_col is None:
                results.append(ColumnQuality(column=name, kind=ref_col.kind.value, checked=False))
                continue
            results.append(self._column(ref_col, cur_col))
        return QualityReport(
            columns=tuple(results),
            schema_issues=tuple(issues),
            reference_rows=ref.rows,
            current_rows=cur.rows,
            thresholds={
                "max_null_rate_increase": self.max_null_rate_increase,
                "max_out_of_range_share": self.max_out_of_range_share,
                "max_unseen_share": self.max_unseen_share,
            },
        )

    def _column(self, ref: Column, cur: Column) -> ColumnQuality:
        null_ref = ref.nulls / ref.rows if ref.rows else 0.0
        null_cur = cur.nulls / cur.rows if cur.rows else 0.0
        issues = []
        if null_cur - null_ref > self.max_null_rate_increase:
            issues.append("null_rate")
        if not ref.nullable and cur.nulls:
            issues.append("unexpected_nulls")
        result = ColumnQuality(
            column=ref.name,
            kind=ref.kind.value,
            null_rate_reference=null_ref,
            null_rate_current=null_cur,
            approximate=not (ref.exact and cur.exact),
        )
        if isinstance(ref, NumericColumn) and isinstance(cur, NumericColumn):
            result = self._numeric(result, ref, cur, issues)
        elif isinstance(ref, CategoricalColumn) and isinstance(cur, CategoricalColumn):
            result = self._categorical(result, ref, cur, issues)
        return dataclasses.replace(result, issues=tuple(issues))

    def _numeric(
        self, result: ColumnQuality, ref: NumericColumn, cur: NumericColumn, issues: list[str]
    ) -> ColumnQuality:
        if cur.infinite and not ref.infinite:
            issues.append("infinite_values")
        if ref.min is None or ref.max is None or cur.values.size == 0:
            return dataclasses.replace(result, infinite_current=cur.infinite)
        below = int(np.searchsorted(cur.values, ref.min, side="left"))
        above = int(cur.values.size - np.searchsorted(cur.values, ref.max, side="right"))
        share = (below + above) / cur.values.size
        if share > self.max_out_of_range_share:
            issues.append("out_of_range")
        return dataclasses.replace(
            result,
            out_of_range_share=share,
            below_min=below,
            above_max=above,
            infinite_current=cur.infinite,
        )

    def _categorical(
        self,
        result: ColumnQuality,
        ref: CategoricalColumn,
        cur: CategoricalColumn,
        issues: list[str],
    ) -> ColumnQuality:
        known = set(ref.categories)
        unseen = [
            (v, int(n)) for v, n in zip(cur.categories, cur.counts, strict=True) if v not in known
        ]
        total = cur.total
        share = sum(n for _, n in unseen) / total if total else 0.0
        if ref.exact and share > self.max_unseen_share:
            issues.append("unseen_categories")
        return dataclasses.replace(
            result,
            unseen_categories=tuple(v for v, _ in unseen[:10]),
            unseen_share=share,
            reference_complete=ref.exact,
        )


def check_quality(reference: Any, current: Any, **params: Any) -> QualityReport:
    """Shortcut for ``QualityChecker(**params).fit(reference).score(current)``."""
    return QualityChecker(**params).fit(reference).score(current)
