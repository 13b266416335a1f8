"""Data and prediction drift between a reference and a current window.

Usage::

    detector = DriftDetector(prediction_columns=["score"]).fit(reference)  # table or profile
    report = detector.score(current)                                        # table or profile
    report.verdict, report.drifted_columns, report.to_dict()

Defaults (``docs/drift.md`` explains why):

- Per column, when the smaller window has at most ``small_sample`` (3,000) values, a test:
  Kolmogorov-Smirnov (numeric) or chi-square (categorical), with a Bonferroni correction across
  all tested columns at ``alpha`` = 0.05. Above that, an effect size with a fixed threshold:
  Wasserstein distance divided by the reference's standard deviation (numeric, >= 0.1) or
  Jensen-Shannon distance (categorical, base 2, >= 0.1; only while the sampling noise of the
  distance for that many categories stays below a third of the threshold, see
  :func:`js_noise`). Large samples make every test significant for differences too small to
  matter, and a distance needs no correction; small samples make distances noisy.
- PSI is available (``numeric_method="psi"``) but is not a default: it misses 0.3-standard-
  deviation shifts at its usual 0.1 threshold.
- The dataset is flagged when at least half the feature columns drifted, and the report's
  verdict says ``column_drift`` as soon as one did.

The reference may be a :class:`~modelward.profiling.DatasetProfile`: numeric statistics then
run on its sample (tests stay exact tests against that sample; distances carry a small
sampling error, see docs/drift.md) and categorical ones on its counts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelward.errors import InvalidInput
from modelward.monitoring._estimator import Estimator
from modelward.monitoring.columns import (
    OTHER_LABEL,
    CategoricalColumn,
    Column,
    NumericColumn,
    Window,
    summarize,
)
from modelward.monitoring.drift_report import (
    ColumnDrift,
    ColumnRole,
    ColumnStatus,
    DriftPlot,
    DriftReport,
)
from modelward.monitoring.schema import compare_schemas
from modelward.monitoring.statistics import (
    CORRECTIONS,
    adjust_p_values,
    bin_counts_sorted,
    chi2_counts,
    jensenshannon_counts,
    ks_2samp_sorted,
    psi,
    quantile_edges,
    wasserstein_sorted,
)
from modelward.profiling.entities import ColumnKind

__all__ = [
    "CATEGORICAL_METHODS",
    "DEFAULT_THRESHOLDS",
    "NUMERIC_METHODS",
    "TEST_METHODS",
    "DriftDetector",
    "detect_drift",
    "js_noise",
]

#: Methods for numeric columns ("auto" picks ks or wasserstein by sample size).
NUMERIC_METHODS: tuple[str, ...] = ("auto", "ks", "wasserstein", "psi")
#: Methods for categorical columns ("auto" picks chisquare or jensenshannon by sample size).
CATEGORICAL_METHODS: tuple[str, ...] = ("auto", "chisquare", "jensenshannon", "psi")
#: Methods that are hypothesis tests (compared through corrected p-values with ``alpha``).
TEST_METHODS = frozenset({"ks", "chisquare"})
#: Distance thresholds: a column drifts when its statistic is at least this.
DEFAULT_THRESHOLDS: Mapping[str, float] = {"wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.1}


class DriftDetector(Estimator):
    """Compare a current window with a reference, column by column.

    Args:
        columns: Feature columns to compare (default: every reference column except the
            prediction columns).
        prediction_columns: Model output columns; reported apart (``prediction_drifted``) and
            left out of the dataset share.
        categorical: Numeric columns to compare as categories (e.g. integer codes).
        numeric_method: ``"auto"``, ``"ks"``, ``"wasserstein"`` or ``"psi"``.
        categorical_method: ``"auto"``, ``"chisquare"``, ``"jensenshannon"`` or ``"psi"``.
        methods: Per-column method, overriding the two above.
        thresholds: Per-method distance threshold, overriding :data:`DEFAULT_THRESHOLDS`.
        column_thresholds: Per-column threshold (a distance threshold, or the significance
            level for a test column), overriding everything else.
        alpha: Significance level for tests, applied after the correction.
        correction: ``"bonferroni"``, ``"holm"``, ``"bh"``, ``"by"`` or ``"none"``.
        drift_share: Share of drifted feature columns that flags the dataset.
        small_sample: Largest sample (the smaller window's value count) for which ``"auto"``
            picks a test instead of a distance (categorical columns with many categories need
            more, see :func:`js_noise`).
        psi_bins: Bins for numeric PSI (at the reference's quantiles).
        plot_bins: Histogram bins / categories kept in each column's plot data.
        max_categories: Categories listed per categorical column; the rest form ``<other>``.
    """

    def __init__(
        self,
        *,
        columns: Sequence[str] | None = None,
        prediction_columns: Sequence[str] = (),
        categorical: Collection[str] = (),
        numeric_method: str = "auto",
        categorical_method: str = "auto",
        methods: Mapping[str, str] | None = None,
        thresholds: Mapping[str, float] | None = None,
        column_thresholds: Mapping[str, float] | None = None,
        alpha: float = 0.05,
        correction: str = "bonferroni",
        drift_share: float = 0.5,
        small_sample: int = 3000,
        psi_bins: int = 10,
        plot_bins: int = 20,
        max_categories: int = 1000,
    ) -> None:
        self.columns = columns
        self.prediction_columns = prediction_columns
        self.categorical = categorical
        self.numeric_method = numeric_method
        self.categorical_method = categorical_method
        self.methods = methods
        self.thresholds = thresholds
        self.column_thresholds = column_thresholds
        self.alpha = alpha
        self.correction = correction
        self.drift_share = drift_share
        self.small_sample = small_sample
        self.psi_bins = psi_bins
        self.plot_bins = plot_bins
        self.max_categories = max_categories

    def _validate(self) -> None:
        if self.numeric_method not in NUMERIC_METHODS:
            raise InvalidInput(
                f"numeric_method {self.numeric_method!r} is unknown; use one of "
                f"{', '.join(NUMERIC_METHODS)}"
            )
        if self.categorical_method not in CATEGORICAL_METHODS:
            raise InvalidInput(
                f"categorical_method {self.categorical_method!r} is unknown; use one of "
                f"{', '.join(CATEGORICAL_METHODS)}"
            )
        if self.correction not in CORRECTIONS:
            raise InvalidInput(
                f"correction {self.correction!r} is unknown; use one of {', '.join(CORRECTIONS)}"
            )
        if not 0.0 < self.alpha < 1.0:
            raise InvalidInput(f"alpha must lie strictly between 0 and 1, got {self.alpha}")
        if not 0.0 < self.drift_share <= 1.0:
            raise InvalidInput(f"drift_share must lie in (0, 1], got {self.drift_share}")
        for name, value in {
            "small_sample": self.small_sample,
            "psi_bins": self.psi_bins,
            "plot_bins": self.plot_bins,
            "max_categories": self.max_categories,
        }.items():
            if value < (0 if name == "small_sample" else 2):
                raise InvalidInput(f"{name} is too small: {value}")
        for method, limit in (self.thresholds or {}).items():
            if method not in DEFAULT_THRESHOLDS:
                raise InvalidInput(
                    f"thresholds has unknown distance method {method!r}; use "
                    f"{', '.join(DEFAULT_THRESHOLDS)} (tests use alpha)"
                )
            if not limit > 0:
                raise InvalidInput(f"threshold for {method} must be positive, got {limit}")

    def fit(self, reference: Any) -> DriftDetector:
        """Learn the reference: a table, DataFrame, RecordBatch or ``DatasetProfile``.

        Raises:
            InvalidInput: Bad parameters, an empty reference, or columns it lacks.

        Returns:
            ``self``.
        """
        self._validate()
        preds = list(self.prediction_columns)
        wanted = list(self.columns) + preds if self.columns is not None else None
        window = summarize(
            reference,
            columns=wanted,
            categorical=frozenset(self.categorical),
            max_categories=self.max_categories,
            what="reference",
        )
        if window.rows == 0:
            raise InvalidInput("the reference has no rows; fit on a non-empty table or profile")
        names = wanted if wanted is not None else list(window.dtypes)
        absent = [n for n in names if window.column(n) is None]
        if absent:
            raise InvalidInput(
                f"the reference has no column(s) {', '.join(map(repr, absent))}; "
                f"its columns are: {', '.join(window.dtypes)}"
            )
        pool = self.columns if self.columns is not None else list(window.dtypes)
        features = [n for n in pool if n not in preds]
        methods: dict[str, str] = {}
        for name in features + preds:
            methods[name] = self._method_for(name, _required(window, name))
        self.reference_: Window = window
        self.feature_names_in_: tuple[str, ...] = tuple(features)
        self.prediction_columns_: tuple[str, ...] = tuple(preds)
        self.methods_: dict[str, str] = methods
        self.thresholds_: dict[str, float] = {**DEFAULT_THRESHOLDS, **(self.thresholds or {})}
        return self

    def _method_for(self, name: str, column: Column) -> str:
        configured = (self.methods or {}).get(name)
        if column.kind is ColumnKind.NUMERIC:
            method = configured or self.numeric_method
            allowed = NUMERIC_METHODS
        elif column.kind is ColumnKind.CATEGORICAL:
            method = configured or self.categorical_method
            allowed = CATEGORICAL_METHODS
        else:
            return "none"
        if method not in allowed:
            raise InvalidInput(
                f"method {method!r} does not apply to {column.kind.value} column {name!r}; "
                f"use one of {', '.join(allowed)}"
            )
        return method

    def score(self, current: Any) -> DriftReport:
        """Compare ``current`` (table, DataFrame, RecordBatch or profile) with the reference.

        Raises:
            InvalidInput: Not fitted, or the current window has no rows (there is nothing to
                compare; skip the window or widen it).
        """
        self._check_fitted("reference_")
        ref = self.reference_
        roles = [(n, ColumnRole.FEATURE) for n in self.feature_names_in_] + [
            (n, ColumnRole.PREDICTION) for n in self.prediction_columns_
        ]
        cur = summarize(
            current,
            columns=[n for n, _ in roles],
            categorical=frozenset(self.categorical),
            max_categories=self.max_categories,
            what="current window",
            lazy=True,
        )
        if cur.rows == 0:
            raise InvalidInput(
                "the current window has no rows, so there is nothing to compare with the "
                "reference; skip this window or widen it"
            )
        issues = compare_schemas(ref, cur, [n for n, _ in roles])
        blocking = {i.column for i in issues if i.severity == "error"}
        results = []
        for name, role in roles:
            ref_col = _required(ref, name)
            results.append(self._column(name, role, ref_col, cur, name in blocking))
        results = self._apply_tests(results)
        return DriftReport(
            columns=tuple(results),
            schema_issues=tuple(issues),
            reference_rows=ref.rows,
            current_rows=cur.rows,
            drift_share=self.drift_share,
            alpha=self.alpha,
            correction=self.correction,
        )

    def _column(
        self, name: str, role: ColumnRole, ref: Column, window: Window, blocked: bool
    ) -> ColumnDrift:
        base = ColumnDrift(column=name, role=role, kind=ref.kind.value, status=ColumnStatus.OK)
        if blocked:
            return dataclasses.replace(base, status=ColumnStatus.SCHEMA)
        if ref.dtype == "null":  # every reference value was missing
            return dataclasses.replace(base, status=ColumnStatus.NO_DATA)
        if ref.kind is ColumnKind.OTHER:
            return dataclasses.replace(base, status=ColumnStatus.UNSUPPORTED)
        cur = window.column(name)
        if cur is None or cur.kind is not ref.kind or not ref.has_values or not cur.has_values:
            return dataclasses.replace(base, status=ColumnStatus.NO_DATA)
        if isinstance(ref, NumericColumn) and isinstance(cur, NumericColumn):
            return self._numeric(base, ref, cur)
        assert isinstance(ref, CategoricalColumn)
        assert isinstance(cur, CategoricalColumn)
        return self._categorical(base, ref, cur)

    def _threshold(self, name: str, method: str) -> float:
        per_column = (self.column_thresholds or {}).get(name)
        if per_column is not None:
            return float(per_column)
        if method in TEST_METHODS:
            return float(self.alpha)
        return float(self.thresholds_[method])

    def _numeric(self, base: ColumnDrift, ref: NumericColumn, cur: NumericColumn) -> ColumnDrift:
        method = self.methods_[base.column]
        if method == "auto":
            small = min(ref.finite, cur.finite) <= self.small_sample
            method = "ks" if small else "wasserstein"
        p_value = None
        if method == "ks":
            statistic, p_value = ks_2samp_sorted(ref.values, cur.values)
        elif method == "wasserstein":
            statistic = wasserstein_sorted(ref.values, cur.values) / _scale(ref)
        else:
            edges = quantile_edges(ref.values, self.psi_bins)
            statistic = psi(
                bin_counts_sorted(ref.values, edges), bin_counts_sorted(cur.values, edges)
            )
        threshold = self._threshold(base.column, method)
        return dataclasses.replace(
            base,
            method=method,
            statistic=float(statistic),
            p_value=p_value,
            threshold=threshold,
            drifted=p_value is None and statistic >= threshold,
            reference_count=int(ref.values.size),
            current_count=int(cur.values.size),
            approximate=not (ref.exact and cur.exact),
            details={
                "reference_mean": ref.mean,
                "current_mean": cur.mean,
                "reference_std": ref.std,
                "current_std": cur.std,
            },
            plot=_numeric_plot(ref.values, cur.values, self.plot_bins),
        )

    def _categorical(
        self, base: ColumnDrift, ref: CategoricalColumn, cur: CategoricalColumn
    ) -> ColumnDrift:
        labels, r, c, unseen = _align(ref, cur, self.max_categories)
        method = self.methods_[base.column]
        if method == "auto":
            small = min(ref.total, cur.total) <= self.small_sample
            noisy = (
                js_noise(len(labels), ref.total, cur.total)
                > self.thresholds_["jensenshannon"] / 3.0
            )
            method = "chisquare" if small or noisy else "jensenshannon"
        p_value = None
        if method == "chisquare":
            statistic, p_value = chi2_counts(r, c)
        elif method == "jensenshannon":
            statistic = jensenshannon_counts(r, c)
        else:
            statistic = psi(r, c)
        threshold = self._threshold(base.column, method)
        unseen_count = sum(n for _, n in unseen)
        return dataclasses.replace(
            base,
            method=method,
            statistic=float(statistic),
            p_value=p_value,
            threshold=threshold,
            drifted=p_value is None and statistic >= threshold,
            reference_count=ref.total,
            current_count=cur.total,
            approximate=not (ref.exact and cur.exact),
            details={
                "unseen_categories": [v for v, _ in unseen[:10]],
                "unseen_count": unseen_count,
                "unseen_share": unseen_count / cur.total,
                "categories": len(labels),
            },
            plot=_categorical_plot(labels, r, c, self.plot_bins),
        )

    def _apply_tests(self, results: list[ColumnDrift]) -> list[ColumnDrift]:
        tested = [i for i, r in enumerate(results) if r.p_value is not None]
        if not tested:
            return results
        raw = np.array([results[i].p_value for i in tested], dtype=np.float64)
        adjusted = adjust_p_values(raw, self.correction)
        out = list(results)
        for i, adj in zip(tested, adjusted, strict=True):
            r = out[i]
            assert r.threshold is not None
            out[i] = dataclasses.replace(
                r, p_value_adjusted=float(adj), drifted=bool(adj < r.threshold)
            )
        return out


def detect_drift(reference: Any, current: Any, **params: Any) -> DriftReport:
    """Shortcut for ``DriftDetector(**params).fit(reference).score(current)``."""
    return DriftDetector(**params).fit(reference).score(current)


def js_noise(categories: int, n: int, m: int) -> float:
    """Expected Jensen-Shannon distance (base 2) between two samples of one distribution.

    For ``k`` categories and samples of ``n`` and ``m`` values it is about
    ``sqrt((k - 1) * (1/n + 1/m) / (8 ln 2))``: 0.02 for 5 categories at 3,000 values each,
    0.16 for 200. ``"auto"`` uses the Jensen-Shannon distance only while this stays below a
    third of its threshold, so sampling noise alone never reaches the threshold; otherwise it
    uses the chi-square test, which accounts for the number of categories.
    """
    if categories < 2 or n <= 0 or m <= 0:
        return 0.0
    return math.sqrt((categories - 1) * (1.0 / n + 1.0 / m) / (8.0 * math.log(2.0)))


def _required(window: Window, name: str) -> Column:
    column = window.column(name)
    assert column is not None  # checked at fit
    return column


def _scale(ref: NumericColumn) -> float:
    """Divisor that makes the Wasserstein distance unit-free.

    The reference's standard deviation; for a constant reference, its absolute value (so a move
    from 5 to 5.5 scores 0.1), or 1 when that is 0.
    """
    if ref.std is not None and ref.std > 0:
        return ref.std
    if ref.mean is not None and ref.mean != 0:
        return abs(ref.mean)
    return 1.0


def _numeric_plot(ref: NDArray[np.float64], cur: NDArray[np.float64], bins: int) -> DriftPlot:
    lo = float(min(ref[0], cur[0]))
    hi = float(max(ref[-1], cur[-1]))
    if lo == hi:
        return DriftPlot("histogram", (lo, hi), (1.0,), (1.0,))
    edges = np.linspace(lo, hi, bins + 1)

    def shares(values: NDArray[np.float64]) -> tuple[float, ...]:
        cuts = np.searchsorted(values, edges[1:-1], side="left")
        counts = np.diff(np.concatenate(([0], cuts, [values.size])))
        return tuple(round(float(x), 6) for x in counts / values.size)

    return DriftPlot("histogram", tuple(float(e) for e in edges), shares(ref), shares(cur))


def _align(
    ref: CategoricalColumn, cur: CategoricalColumn, max_categories: int
) -> tuple[list[str], NDArray[np.float64], NDArray[np.float64], list[tuple[str, int]]]:
    """Put both windows' counts on one list of categories.

    Returns the labels, the reference and current counts per label, and the current categories
    the reference never had (most frequent first; empty when the reference lists only some of
    its values, since an unlisted value may be a rare reference value).
    """
    cur_counts = dict(zip(cur.categories, (int(n) for n in cur.counts), strict=True))
    labels = list(ref.categories)
    r = [int(n) for n in ref.counts]
    c = [cur_counts.pop(v, 0) for v in labels]
    rest = sorted(cur_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    unseen: list[tuple[str, int]] = []
    other_ref, other_cur = ref.other, cur.other
    if ref.exact:
        unseen = rest
        room = max(0, max_categories - len(labels))
        for value, n in rest[:room]:
            labels.append(value)
            r.append(0)
            c.append(n)
        other_cur += sum(n for _, n in rest[room:])
    else:
        other_cur += sum(n for _, n in rest)
    if other_ref or other_cur:
        labels.append(OTHER_LABEL)
        r.append(other_ref)
        c.append(other_cur)
    return labels, np.asarray(r, np.float64), np.asarray(c, np.float64), unseen


def _categorical_plot(
    labels: list[str], r: NDArray[np.float64], c: NDArray[np.float64], bins: int
) -> DriftPlot:
    rf, cf = r / r.sum(), c / c.sum()
    order = np.argsort(-(rf + cf), kind="stable")
    keep = order[:bins] if len(order) > bins else order
    rest = order[bins:] if len(order) > bins else order[:0]
    names: list[float | str] = [labels[i] for i in keep]
    ref_share = [round(float(rf[i]), 6) for i in keep]
    cur_share = [round(float(cf[i]), 6) for i in keep]
    if rest.size:
        names.append(OTHER_LABEL if OTHER_LABEL not in names else f"{OTHER_LABEL}+")
        ref_share.append(round(float(rf[rest].sum()), 6))
        cur_share.append(round(float(cf[rest].sum()), 6))
    return DriftPlot("bars", tuple(names), tuple(ref_share), tuple(cur_share))
