"""Evaluate one window: drift, data quality, performance and operational figures.

:class:`WindowEvaluator` fits the drift detector and quality checker on the reference once
(from its stored profile), then turns each window's rows into a :class:`WindowEvaluation`:
the reports themselves (for HTML/JSON reports) and the flat metric values stored as the
monitor's time series (:meth:`WindowEvaluation.results`).

Stored keys (``docs/monitoring.md`` lists them all): ``window.rows``; ``ops.requests``,
``ops.latency_mean|p50|p95|p99``, ``ops.prediction_mean``; ``drift.share``,
``drift.drifted``, ``drift.dataset``, ``drift.prediction``, ``drift.column.<name>``;
``quality.passed``, ``quality.failed_columns``, ``quality.null_rate.<name>``,
``quality.out_of_range.<name>``, ``quality.unseen.<name>``; ``performance.<metric>``,
``performance.<metric>.delta``, ``performance.labelled``, ``performance.label_rate``.

A check that cannot run on a window (an empty window, no labels yet) is skipped with a note;
a window never fails as a whole because one check could not run.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from modelward.entities.monitoring import MonitorResult
from modelward.errors import ModelwardError

if TYPE_CHECKING:
    import pyarrow as pa

    from modelward.monitoring.drift_report import DriftReport
    from modelward.monitoring.performance import PerformanceResult
    from modelward.monitoring.quality import QualityReport
    from modelward.monitoring.reference import Reference
    from modelward.monitoring.spec import MonitorSpec
    from modelward.monitoring.windows import Window

__all__ = ["WindowEvaluation", "WindowEvaluator", "current_frame"]

log = logging.getLogger(__name__)


@dataclass
class WindowEvaluation:
    """Everything computed for one window.

    Attributes:
        monitor: Monitor name.
        window: The window.
        rows: Rows in it.
        drift: Drift report (``None`` when skipped; see ``notes``).
        quality: Quality report.
        performance: Performance result.
        operations: Operational figures by key (``ops.*``).
        notes: Why a check was skipped, by check name.
    """

    monitor: str
    window: Window
    rows: int
    drift: DriftReport | None = None
    quality: QualityReport | None = None
    performance: PerformanceResult | None = None
    operations: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def results(self) -> list[MonitorResult]:
        """The flat metric values stored for this window."""
        out: list[MonitorResult] = []

        def add(key: str, value: float | None, **details: Any) -> None:
            out.append(
                MonitorResult(
                    self.monitor, self.window.start, self.window.end, key, _num(value), details
                )
            )

        add("window.rows", self.rows, window=self.window.to_dict(), notes=dict(self.notes))
        for key, value in self.operations.items():
            add(key, value)
        if self.drift is not None:
            _drift_results(self.drift, add)
        if self.quality is not None:
            _quality_results(self.quality, add)
        if self.performance is not None:
            out.extend(performance_results(self.monitor, self.window, self.performance))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (reports)."""
        return {
            "window": self.window.to_dict(),
            "rows": self.rows,
            "notes": dict(self.notes),
            "operations": {k: _num(v) for k, v in self.operations.items()},
            "drift": self.drift.to_dict() if self.drift is not None else None,
            "quality": self.quality.to_dict() if self.quality is not None else None,
            "performance": self.performance.to_dict() if self.performance is not None else None,
        }


def _num(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _drift_results(report: DriftReport, add: Any) -> None:
    add(
        "drift.share",
        report.share,
        verdict=report.verdict.value,
        summary=report.summary,
        drifted_columns=list(report.drifted_columns),
        n_columns=report.n_columns,
    )
    add("drift.drifted", report.n_drifted)
    add("drift.dataset", float(report.dataset_drifted))
    preds = [c for c in report.columns if c.role.value == "prediction"]
    if preds:
        add("drift.prediction", float(report.prediction_drifted))
    for c in report.columns:
        add(
            f"drift.column.{c.column}",
            c.statistic,
            role=c.role.value,
            status=c.status.value,
            method=c.method,
            p_value=_num(c.p_value),
            p_value_adjusted=_num(c.p_value_adjusted),
            threshold=_num(c.threshold),
            drifted=c.drifted,
        )


def _quality_results(report: QualityReport, add: Any) -> None:
    add(
        "quality.passed",
        float(report.passed),
        summary=report.summary,
        failed_columns=list(report.failed_columns),
        schema_issues=[i.to_dict() for i in report.schema_issues],
    )
    add("quality.failed_columns", len(report.failed_columns))
    for c in report.columns:
        if not c.checked:
            continue
        add(f"quality.null_rate.{c.column}", c.null_rate_current, issues=list(c.issues))
        if c.out_of_range_share is not None:
            add(f"quality.out_of_range.{c.column}", c.out_of_range_share, issues=list(c.issues))
        if c.unseen_share is not None:
            add(
                f"quality.unseen.{c.column}",
                c.unseen_share,
                issues=list(c.issues),
                unseen=list(c.unseen_categories),
            )


def performance_results(
    monitor: str, window: Window, perf: PerformanceResult
) -> list[MonitorResult]:
    """The stored values of a window's performance (also written alone for late labels)."""
    out = []

    def add(key: str, value: float | None, **details: Any) -> None:
        out.append(MonitorResult(monitor, window.start, window.end, key, _num(value), details))

    add("performance.labelled", perf.labelled, task=perf.task, skipped=dict(perf.skipped))
    add("performance.label_rate", perf.label_rate)
    deltas = perf.deltas
    for name, value in perf.metrics.items():
        base = perf.baseline.get(name)
        add(f"performance.{name}", value, baseline=base, delta=deltas.get(name))
        if name in deltas:
            add(f"performance.{name}.delta", deltas[name], baseline=base)
    return out


def current_frame(log: pa.Table, columns: list[str], *, prediction: bool = True) -> pa.Table:
    """The log's input columns under their feature names, plus ``prediction`` if asked.

    Inputs whose name collides with a log column are logged as ``input.<name>``. Columns the
    log lacks are left out (drift and quality report them as missing).
    """
    import pyarrow as pa

    from modelward.deployments.predictions import input_column

    arrays, names = [], []
    for name in columns:
        source = input_column(name)
        if source in log.column_names:
            arrays.append(log.column(source))
            names.append(name)
    if prediction and "prediction" in log.column_names and "prediction" not in names:
        arrays.append(log.column("prediction"))
        names.append("prediction")
    if not arrays:
        return pa.table({"_rows": pa.nulls(log.num_rows)}).drop_columns(["_rows"])
    return pa.table(dict(zip(names, arrays, strict=True)))


class WindowEvaluator:
    """Evaluates windows of one monitor against its reference.

    Args:
        spec: The monitor.
        reference: Its resolved reference.
        dataset_windows: Windows are dataset versions (their target is compared directly).

    Raises:
        InvalidInput: The configuration does not fit the reference (e.g. a drift column it
            lacks).
    """

    def __init__(
        self, spec: MonitorSpec, reference: Reference, *, dataset_windows: bool = False
    ) -> None:
        from modelward.monitoring.drift import DriftDetector
        from modelward.monitoring.quality import QualityChecker
        from modelward.monitoring.reference import PREDICTION, prediction_reference

        self.spec = spec
        self.reference = reference
        checks = spec.checks
        target = reference.target
        excluded = {target, PREDICTION}
        self.features: list[str] = list(
            checks.drift.columns
            or reference.features
            or [c for c in reference.columns if c not in excluded]
        )
        self.prediction_column: str | None = None
        self.drift: DriftDetector | None = None
        if checks.drift.enabled:
            data = reference.data
            preds: list[str] = []
            if checks.drift.prediction and target is not None:
                if dataset_windows:
                    preds = [target]
                else:
                    data = prediction_reference(data, target)
                    preds = [PREDICTION]
                self.prediction_column = preds[0]
            params = dict(checks.drift.params)
            self.drift = DriftDetector(
                columns=self.features, prediction_columns=preds, **params
            ).fit(data)
        self.quality: QualityChecker | None = None
        if checks.quality.enabled:
            self.quality = QualityChecker(columns=self.features, **checks.quality.params).fit(
                reference.data
            )

    def evaluate(
        self, window: Window, table: pa.Table, *, labelled: bool = False
    ) -> WindowEvaluation:
        """Evaluate one window.

        Args:
            window: The window.
            table: Its rows: prediction log rows (``labelled``: joined with labels) or a
                dataset version's table.
            labelled: ``table`` has a ``label`` column (performance is computed).
        """
        checks = self.spec.checks
        is_log = "request_id" in table.column_names
        result = WindowEvaluation(self.spec.name, window, table.num_rows)
        if checks.operations and is_log:
            result.operations = operations(table)
        if table.num_rows == 0:
            note = "empty window: no rows to compare"
            for name in ("drift", "quality", "performance"):
                result.notes[name] = note
            return result
        with_prediction = self.prediction_column == "prediction"
        current = (
            current_frame(table, self.features, prediction=with_prediction) if is_log else table
        )
        if self.drift is not None:
            try:
                result.drift = self.drift.score(current)
            except ModelwardError as exc:
                log.warning("monitor %s: drift skipped for %s: %s", self.spec.name, window, exc)
                result.notes["drift"] = str(exc)
        if self.quality is not None:
            try:
                plain = current
                if is_log and with_prediction and "prediction" in current.column_names:
                    plain = current.drop_columns(["prediction"])
                result.quality = self.quality.score(plain)
            except ModelwardError as exc:
                result.notes["quality"] = str(exc)
        if checks.performance.enabled and is_log:
            if labelled:
                result.performance = self.performance(table)
            else:
                result.notes["performance"] = "labels were not read for this window"
        return result

    def performance(self, table: pa.Table) -> PerformanceResult:
        """The performance of a labelled log window."""
        from modelward.monitoring.performance import compute_performance

        perf = self.spec.checks.performance
        return compute_performance(
            table,
            task=self.reference.task,
            metrics=perf.metrics,
            average=perf.average,
            baseline=self.reference.baseline,
            min_labels=perf.min_labels,
        )


def operations(table: pa.Table) -> dict[str, float | None]:
    """Request volume, latency percentiles (per request) and the mean numeric prediction."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out: dict[str, float | None] = {
        "ops.requests": 0.0,
        "ops.latency_mean": None,
        "ops.latency_p50": None,
        "ops.latency_p95": None,
        "ops.latency_p99": None,
        "ops.prediction_mean": None,
    }
    if table.num_rows == 0:
        return out
    # A request's latency is logged on each of its rows; count it once per request.
    first = pc.equal(table.column("row"), 0) if "row" in table.column_names else None
    requests = table.filter(first) if first is not None else table
    out["ops.requests"] = float(requests.num_rows)
    if "latency_ms" in table.column_names and requests.num_rows:
        lat = requests.column("latency_ms").to_numpy(zero_copy_only=False).astype(np.float64)
        lat = lat[np.isfinite(lat)]
        if lat.size:
            p50, p95, p99 = np.percentile(lat, [50, 95, 99])
            out.update(
                {
                    "ops.latency_mean": float(lat.mean()),
                    "ops.latency_p50": float(p50),
                    "ops.latency_p95": float(p95),
                    "ops.latency_p99": float(p99),
                }
            )
    if "prediction" in table.column_names:
        pred = table.column("prediction")
        if pa.types.is_integer(pred.type) or pa.types.is_floating(pred.type):
            values = pred.to_numpy(zero_copy_only=False).astype(np.float64)
            values = values[np.isfinite(values)]
            if values.size:
                out["ops.prediction_mean"] = float(values.mean())
    return out
