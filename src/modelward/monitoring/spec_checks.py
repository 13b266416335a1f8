"""Check settings of a monitor definition (``checks:``): drift, quality, performance, anomaly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelward.errors import InvalidInput
from modelward.monitoring._spec_parse import (
    _int,
    _known,
    _mapping,
    _names,
    _str,
    _toggle,
    parse_duration,
)

__all__ = [
    "DEFAULT_ANOMALY_SERIES",
    "AnomalyCheck",
    "Checks",
    "DriftCheck",
    "PerformanceCheck",
    "QualityCheck",
]

DEFAULT_ANOMALY_SERIES = (
    "ops.latency_p95",
    "ops.requests",
    "ops.prediction_mean",
    "drift.share",
)


@dataclass(frozen=True, slots=True)
class DriftCheck:
    """Drift settings: ``params`` go to :class:`~modelward.monitoring.drift.DriftDetector`.

    Attributes:
        columns: Feature columns (default: the model's inputs found in the reference).
        prediction: Compare the predictions with the reference's target column.
        target: The reference column predictions are compared with (default: the training
            run's target).
    """

    enabled: bool = True
    columns: tuple[str, ...] | None = None
    prediction: bool = True
    target: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_value(cls, value: Any) -> DriftCheck:
        """Validate ``checks.drift``."""
        from modelward.monitoring.drift import DriftDetector

        enabled, d = _toggle(value, "checks.drift")
        columns = _names(d.pop("columns", None), "checks.drift.columns")
        prediction = d.pop("prediction", True)
        if not isinstance(prediction, bool):
            raise InvalidInput(f"checks.drift.prediction must be true or false, not {prediction!r}")
        target = d.pop("target", None)
        if target is not None:
            target = _str(target, "checks.drift.target")
        for banned in ("prediction_columns",):
            if banned in d:
                raise InvalidInput(
                    f"checks.drift.{banned} is set by the monitor; use checks.drift.prediction"
                )
        detector = DriftDetector()
        try:
            detector.set_params(**d)
            detector._validate()
        except InvalidInput as exc:
            raise InvalidInput(f"checks.drift: {exc.message}") from None
        return cls(enabled, columns, prediction, target, dict(d))

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {
            "enabled": self.enabled,
            "columns": list(self.columns) if self.columns is not None else None,
            "prediction": self.prediction,
            "target": self.target,
            **dict(self.params),
        }


@dataclass(frozen=True, slots=True)
class QualityCheck:
    """Data quality settings (``params`` go to the quality checker)."""

    enabled: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_value(cls, value: Any) -> QualityCheck:
        """Validate ``checks.quality``."""
        from modelward.monitoring.quality import QualityChecker

        enabled, d = _toggle(value, "checks.quality")
        try:
            QualityChecker().set_params(**d)
        except InvalidInput as exc:
            raise InvalidInput(f"checks.quality: {exc.message}") from None
        for name in ("max_null_rate_increase", "max_out_of_range_share", "max_unseen_share"):
            if name in d and (
                isinstance(d[name], bool)
                or not isinstance(d[name], int | float)
                or not 0 <= d[name] <= 1
            ):
                raise InvalidInput(f"checks.quality.{name} must lie in [0, 1], not {d[name]!r}")
        return cls(enabled, dict(d))

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {"enabled": self.enabled, **dict(self.params)}


@dataclass(frozen=True, slots=True)
class PerformanceCheck:
    """Performance settings.

    Attributes:
        metrics: Metrics to compute (default: every metric of the task).
        average: Averaging for multi-class precision, recall and F1.
        label_horizon: How far back (seconds) late labels still update past windows.
        min_labels: Fewest labelled rows for a window's metrics.
    """

    enabled: bool = True
    metrics: tuple[str, ...] | None = None
    average: str = "macro"
    label_horizon: float = 7 * 86400.0
    min_labels: int = 1

    @classmethod
    def from_value(cls, value: Any) -> PerformanceCheck:
        """Validate ``checks.performance``."""
        from modelward.monitoring.performance import ALL_METRICS

        enabled, d = _toggle(value, "checks.performance")
        _known(d, ("metrics", "average", "label_horizon", "min_labels"), "checks.performance")
        metrics = _names(d.get("metrics"), "checks.performance.metrics")
        for m in metrics or ():
            if m not in ALL_METRICS:
                raise InvalidInput(
                    f"checks.performance.metrics has unknown metric {m!r}; use "
                    f"{', '.join(ALL_METRICS)}"
                )
        average = d.get("average", "macro")
        if average not in ("macro", "micro", "weighted"):
            raise InvalidInput(
                f"checks.performance.average must be macro, micro or weighted, not {average!r}"
            )
        return cls(
            enabled,
            metrics,
            average,
            parse_duration(d.get("label_horizon", "7d"), "checks.performance.label_horizon"),
            _int(d.get("min_labels", 1), "checks.performance.min_labels"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {
            "enabled": self.enabled,
            "metrics": list(self.metrics) if self.metrics is not None else None,
            "average": self.average,
            "label_horizon": self.label_horizon,
            "min_labels": self.min_labels,
        }


@dataclass(frozen=True, slots=True)
class AnomalyCheck:
    """Anomaly detection on monitored series.

    Attributes:
        series: Metric keys scored each window.
        method: ``robust_zscore`` or ``ewma``.
        params: Detector parameters (threshold, direction, ...).
        history: Past windows the detector learns from.
        min_history: Fewest past values needed to score a window.
    """

    enabled: bool = True
    series: tuple[str, ...] = DEFAULT_ANOMALY_SERIES
    method: str = "robust_zscore"
    params: Mapping[str, Any] = field(default_factory=dict)
    history: int = 50
    min_history: int = 8

    @classmethod
    def from_value(cls, value: Any) -> AnomalyCheck:
        """Validate ``checks.anomaly``."""
        from modelward.monitoring.anomaly import EWMADetector, RobustZScoreDetector

        enabled, d = _toggle(value, "checks.anomaly")
        series = _names(d.pop("series", None), "checks.anomaly.series") or DEFAULT_ANOMALY_SERIES
        method = d.pop("method", "robust_zscore")
        detectors: dict[str, Any] = {
            "robust_zscore": RobustZScoreDetector,
            "ewma": EWMADetector,
        }
        if method not in detectors:
            raise InvalidInput(
                f"checks.anomaly.method must be robust_zscore or ewma, not {method!r}"
            )
        history = _int(d.pop("history", 50), "checks.anomaly.history", 2)
        min_history = _int(d.pop("min_history", 8), "checks.anomaly.min_history", 2)
        if min_history > history:
            raise InvalidInput(
                f"checks.anomaly.min_history ({min_history}) exceeds history ({history})"
            )
        try:
            detector: Any = detectors[method]()
            detector.set_params(**d)
            detector.fit([float(i % 3) for i in range(12)])  # validates the values too
        except InvalidInput as exc:
            raise InvalidInput(f"checks.anomaly: {exc.message}") from None
        return cls(enabled, series, method, dict(d), history, min_history)

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {
            "enabled": self.enabled,
            "series": list(self.series),
            "method": self.method,
            "history": self.history,
            "min_history": self.min_history,
            **dict(self.params),
        }


@dataclass(frozen=True, slots=True)
class Checks:
    """Every check of a monitor. ``operations``: latency, volume and prediction statistics."""

    drift: DriftCheck = field(default_factory=DriftCheck)
    quality: QualityCheck = field(default_factory=QualityCheck)
    performance: PerformanceCheck = field(default_factory=PerformanceCheck)
    anomaly: AnomalyCheck = field(default_factory=AnomalyCheck)
    operations: bool = True

    @classmethod
    def from_dict(cls, data: Any) -> Checks:
        """Validate ``checks:``; a check left out runs with its defaults."""
        d = _mapping(data, "checks")
        _known(d, ("drift", "quality", "performance", "anomaly", "operations"), "checks")
        ops = d.get("operations", True)
        if not isinstance(ops, bool):
            raise InvalidInput(f"checks.operations must be true or false, not {ops!r}")
        return cls(
            DriftCheck.from_value(d.get("drift")),
            QualityCheck.from_value(d.get("quality")),
            PerformanceCheck.from_value(d.get("performance")),
            AnomalyCheck.from_value(d.get("anomaly")),
            ops,
        )

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {
            "drift": self.drift.to_dict(),
            "quality": self.quality.to_dict(),
            "performance": self.performance.to_dict(),
            "anomaly": self.anomaly.to_dict(),
            "operations": self.operations,
        }
