"""Monitor definitions: parse and validate what users write (YAML or flags) into typed specs.

A definition (``docs/monitoring.md`` documents every field)::

    name: churn-prod
    deployment: churn-prod              # whose prediction log is watched
    reference: churn@3                  # default: the deployed model's training data
    task: classification                # default: from the training run
    window: {type: time, size: 1h, lag: 1m}
    schedule: 15m                       # `monitor watch` runs it this often
    checks:
      drift: {alpha: 0.05, drift_share: 0.5}
      quality: {max_out_of_range_share: 0.02}
      performance: {label_horizon: 7d}
      anomaly: {series: [ops.latency_p95, ops.requests], method: robust_zscore}
    alert_rules:
      - {name: drift, metric: drift.share, condition: ">= 0.3", duration: 2, severity: critical}
    notifiers:
      - {name: slack, type: webhook, url_env: SLACK_WEBHOOK_URL}

:meth:`MonitorSpec.from_dict` normalises it (durations become seconds) and the normal form is
what the store keeps; every error names the field and what to write instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelward.entities.monitoring import Monitor, Severity, check_monitor_name
from modelward.errors import InvalidInput

__all__ = [
    "OPERATORS",
    "AlertRule",
    "AnomalyCheck",
    "Checks",
    "DriftCheck",
    "MonitorSpec",
    "NotifierSpec",
    "PerformanceCheck",
    "QualityCheck",
    "WindowSpec",
    "format_duration",
    "parse_duration",
]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
#: Comparison operators of alert conditions.
OPERATORS = (">=", "<=", "==", "!=", ">", "<")
_CONDITION = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_WINDOWS = re.compile(r"^\s*(\d+)\s*(?:windows?)?\s*$")
NOTIFIER_TYPES = ("webhook", "log", "email")
TASKS = ("classification", "regression")
DEFAULT_ANOMALY_SERIES = (
    "ops.latency_p95",
    "ops.requests",
    "ops.prediction_mean",
    "drift.share",
)


def parse_duration(value: Any, what: str) -> float:
    """Seconds from ``90``, ``"90s"``, ``"5m"``, ``"1h"``, ``"2d"``, ``"1w"`` or ``"500ms"``."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a duration like 30s, 5m, 1h or 1d, not {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise InvalidInput(f"{what} must be a duration like 30s, 5m, 1h or 1d, not {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidInput(f"{what} must be a non-negative duration, not {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact form: ``3600.0`` -> ``"1h"``, ``90.0`` -> ``"90s"``."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    return f"{round(seconds * 1000)}ms"


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} must be a mapping of settings, not {value!r}")
    return value


def _known(data: Mapping[str, Any], allowed: Sequence[str], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"{what} has unknown field(s) {', '.join(unknown)}; known fields: {', '.join(allowed)}"
        )


def _int(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{what} must be an integer of at least {minimum}, not {value!r}")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must be a non-empty string, not {value!r}")
    return value


def _names(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise InvalidInput(f"{what} must be a name or a list of names, not {value!r}")


def _toggle(value: Any, what: str) -> tuple[bool, dict[str, Any]]:
    """A check is ``true``/``false`` or a mapping of its settings (enabled unless it says)."""
    if value is None or value is True:
        return True, {}
    if value is False:
        return False, {}
    data = dict(_mapping(value, what))
    enabled = data.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidInput(f"{what}.enabled must be true or false, not {enabled!r}")
    return enabled, data


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """Which slice of the prediction log (or which dataset version) one evaluation covers.

    Attributes:
        type: ``time`` (consecutive windows of ``size`` seconds, aligned to the epoch),
            ``rows`` (consecutive blocks of ``size`` rows) or ``dataset`` (one dataset
            version, ``dataset``).
        size: Seconds (time) or rows (rows).
        lag: A window is evaluated once its end is at least this many seconds old (the
            prediction log reaches storage up to ~10 s after a request; more with several
            workers).
        backfill: Windows evaluated on a monitor's first run (history it starts with).
        max_windows: Most windows evaluated per run (bounded work; a run that is behind
            catches up over several runs, oldest windows first).
        dataset: For ``dataset`` windows, the version compared (``wine@3``).
        roles: Prediction log roles included (shadow traffic is another model's output).
    """

    type: str = "time"
    size: float = 3600.0
    lag: float = 60.0
    backfill: int = 24
    max_windows: int = 24
    dataset: str | None = None
    roles: tuple[str, ...] = ("champion", "canary")

    @classmethod
    def from_dict(cls, data: Any) -> WindowSpec:
        """Validate a ``window:`` mapping (``{type: time, size: 1h}``, ``{rows: 1000}``)."""
        d = dict(_mapping(data, "window"))
        if "rows" in d and "type" not in d:
            d["type"], d["size"] = "rows", d.pop("rows")
        if "dataset" in d and "type" not in d:
            d["type"] = "dataset"
        _known(
            d,
            ("type", "size", "lag", "backfill", "max_windows", "dataset", "roles"),
            "window",
        )
        kind = d.get("type", "time")
        if kind not in ("time", "rows", "dataset"):
            raise InvalidInput(f"window.type must be time, rows or dataset, not {kind!r}")
        size: float
        if kind == "rows":
            size = float(_int(d.get("size", 1000), "window.size (rows)"))
        elif kind == "time":
            size = parse_duration(d.get("size", "1h"), "window.size")
            if size < 1:
                raise InvalidInput(f"window.size must be at least 1s, not {d.get('size')!r}")
        else:
            size = 0.0
        dataset = d.get("dataset")
        if kind == "dataset":
            dataset = _str(dataset, "window.dataset (a dataset version such as wine@3)")
        elif dataset is not None:
            raise InvalidInput("window.dataset applies only to window.type: dataset")
        roles = _names(d.get("roles"), "window.roles") or ("champion", "canary")
        return cls(
            type=kind,
            size=size,
            lag=parse_duration(d.get("lag", 60), "window.lag"),
            backfill=_int(d.get("backfill", 24), "window.backfill"),
            max_windows=_int(d.get("max_windows", 24), "window.max_windows"),
            dataset=dataset,
            roles=roles,
        )

    def to_dict(self) -> dict[str, Any]:
        """The normal form kept in the store."""
        out: dict[str, Any] = {"type": self.type}
        if self.type == "dataset":
            out["dataset"] = self.dataset
            return out
        out.update(
            size=int(self.size) if self.type == "rows" else self.size,
            lag=self.lag,
            backfill=self.backfill,
            max_windows=self.max_windows,
            roles=list(self.roles),
        )
        return out

    def describe(self) -> str:
        """A short label: ``time 1h``, ``rows 1000``, ``dataset wine@3``."""
        if self.type == "time":
            return f"time {format_duration(self.size)}"
        if self.type == "rows":
            return f"rows {int(self.size)}"
        return f"dataset {self.dataset}"


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


@dataclass(frozen=True, slots=True)
class AlertRule:
    """When to raise an alert.

    Attributes:
        name: Unique within the monitor (the alert's dedup key is ``<monitor>/<name>``).
        metric: The metric key watched (``drift.share``, ``performance.accuracy.delta``, ...).
        op: ``>``, ``>=``, ``<``, ``<=``, ``==``, ``!=`` or ``anomalous`` (the metric's
            ``anomaly.<metric>`` result flagged the window).
        threshold: Compared with the metric (unused for ``anomalous``).
        windows: The condition must hold in this many consecutive windows, or
        seconds: for at least this long (windows spanning it), when given instead.
        severity: ``info``, ``warning`` or ``critical``.
        cooldown: Seconds after a notification during which a re-fired alert of this rule is
            recorded but not notified again.
        notify: Notifier names (default: every notifier of the monitor, else ``log``).
        notify_resolved: Also notify when the alert resolves.
    """

    name: str
    metric: str
    op: str
    threshold: float = 0.0
    windows: int = 1
    seconds: float | None = None
    severity: Severity = Severity.WARNING
    cooldown: float = 3600.0
    notify: tuple[str, ...] | None = None
    notify_resolved: bool = True

    @classmethod
    def from_dict(cls, data: Any, index: int = 0) -> AlertRule:
        """Validate one entry of ``alert_rules``."""
        where = f"alert_rules[{index}]"
        d = _mapping(data, where)
        _known(
            d,
            (
                "name",
                "metric",
                "condition",
                "duration",
                "severity",
                "cooldown",
                "notify",
                "notify_resolved",
            ),
            where,
        )
        metric = _str(d.get("metric"), f"{where}.metric")
        name = _str(d.get("name", metric), f"{where}.name")
        op, threshold = _condition(d.get("condition"), f"{where}.condition")
        windows, seconds = 1, None
        duration = d.get("duration", 1)
        if isinstance(duration, int) and not isinstance(duration, bool):
            windows = _int(duration, f"{where}.duration")
        elif isinstance(duration, str) and _WINDOWS.match(duration):
            windows = _int(int(_WINDOWS.match(duration).group(1)), f"{where}.duration")  # type: ignore[union-attr]
        else:
            seconds = parse_duration(duration, f"{where}.duration (N windows or a time)")
        try:
            severity = Severity(d.get("severity", "warning"))
        except ValueError:
            raise InvalidInput(
                f"{where}.severity must be info, warning or critical, not {d.get('severity')!r}"
            ) from None
        resolved = d.get("notify_resolved", True)
        if not isinstance(resolved, bool):
            raise InvalidInput(f"{where}.notify_resolved must be true or false")
        return cls(
            name=name,
            metric=metric,
            op=op,
            threshold=threshold,
            windows=windows,
            seconds=seconds,
            severity=severity,
            cooldown=parse_duration(d.get("cooldown", "1h"), f"{where}.cooldown"),
            notify=_names(d.get("notify"), f"{where}.notify"),
            notify_resolved=resolved,
        )

    @property
    def condition(self) -> str:
        """The condition as written: ``>= 0.3`` or ``anomalous``."""
        return "anomalous" if self.op == "anomalous" else f"{self.op} {self.threshold:g}"

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {
            "name": self.name,
            "metric": self.metric,
            "condition": self.condition,
            "duration": self.windows if self.seconds is None else format_duration(self.seconds),
            "severity": self.severity.value,
            "cooldown": self.cooldown,
            "notify": list(self.notify) if self.notify is not None else None,
            "notify_resolved": self.notify_resolved,
        }


def _condition(value: Any, what: str) -> tuple[str, float]:
    if isinstance(value, Mapping):
        op, threshold = value.get("op"), value.get("value", 0.0)
        if op not in OPERATORS:
            raise InvalidInput(f"{what}.op must be one of {', '.join(OPERATORS)}, not {op!r}")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InvalidInput(f"{what}.value must be a number, not {threshold!r}")
        return str(op), float(threshold)
    if value == "anomalous":
        return "anomalous", 0.0
    match = _CONDITION.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            f"{what} must look like '> 0.3', '<= -0.05' or 'anomalous', not {value!r}"
        )
    return match.group(1), float(match.group(2))


@dataclass(frozen=True, slots=True)
class NotifierSpec:
    """A named notifier.

    Attributes:
        name: Referenced by rules' ``notify``.
        type: ``webhook``, ``log`` or ``email``.
        options: Type-specific settings (see ``docs/monitoring.md``).
        attempts: Delivery attempts before a notification is recorded as failed.
        backoff: First wait between attempts, in seconds (doubling each time).
        max_backoff: Longest wait between attempts.
        timeout: Seconds one attempt may take.
    """

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)
    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    timeout: float = 5.0

    _COMMON = ("name", "type", "attempts", "backoff", "max_backoff", "timeout")

    @classmethod
    def from_dict(cls, data: Any, index: int = 0) -> NotifierSpec:
        """Validate one entry of ``notifiers``."""
        where = f"notifiers[{index}]"
        d = dict(_mapping(data, where))
        kind = d.get("type")
        if kind not in NOTIFIER_TYPES:
            raise InvalidInput(f"{where}.type must be webhook, log or email, not {kind!r}")
        name = _str(d.get("name", kind), f"{where}.name")
        allowed = {
            "webhook": ("url", "url_env", "headers", "body"),
            "log": ("level",),
            "email": (
                "host",
                "port",
                "sender",
                "to",
                "username",
                "password_env",
                "starttls",
                "ssl",
            ),
        }[kind]
        _known(d, (*cls._COMMON, *allowed), where)
        options = {k: d[k] for k in allowed if k in d}
        if kind == "webhook":
            if ("url" in options) == ("url_env" in options):
                raise InvalidInput(
                    f"{where} needs exactly one of url (http(s)://…) or url_env (the name of an "
                    "environment variable holding it, e.g. for a Slack webhook)"
                )
            url = options.get("url")
            if url is not None and not str(url).startswith(("http://", "https://")):
                raise InvalidInput(f"{where}.url must start with http:// or https://, not {url!r}")
            if options.get("body", "full") not in ("full", "slack"):
                raise InvalidInput(f"{where}.body must be full or slack")
        elif kind == "email":
            for key in ("host", "sender", "to"):
                if key not in options:
                    raise InvalidInput(f"{where} (email) needs {key}")
            options["to"] = list(_names(options["to"], f"{where}.to") or ())
            if options.get("starttls") and options.get("ssl"):
                raise InvalidInput(f"{where}: use starttls or ssl, not both")
        elif options.get("level", "warning") not in ("debug", "info", "warning", "error"):
            raise InvalidInput(f"{where}.level must be debug, info, warning or error")
        backoff = parse_duration(d.get("backoff", 0.5), f"{where}.backoff")
        return cls(
            name=name,
            type=kind,
            options=options,
            attempts=_int(d.get("attempts", 5), f"{where}.attempts"),
            backoff=backoff,
            max_backoff=max(
                backoff, parse_duration(d.get("max_backoff", 30), f"{where}.max_backoff")
            ),
            timeout=max(0.001, parse_duration(d.get("timeout", 5), f"{where}.timeout")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The normal form."""
        return {
            "name": self.name,
            "type": self.type,
            **dict(self.options),
            "attempts": self.attempts,
            "backoff": self.backoff,
            "max_backoff": self.max_backoff,
            "timeout": self.timeout,
        }


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """A validated monitor definition (see the module docstring)."""

    name: str
    deployment: str | None
    reference: str | None
    task: str | None
    window: WindowSpec
    checks: Checks
    schedule: float
    rules: tuple[AlertRule, ...]
    notifiers: tuple[NotifierSpec, ...]
    description: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> MonitorSpec:
        """Validate a whole definition."""
        d = _mapping(data, "the monitor definition")
        _known(
            d,
            (
                "name",
                "deployment",
                "reference",
                "task",
                "window",
                "checks",
                "schedule",
                "alert_rules",
                "notifiers",
                "description",
            ),
            "the monitor definition",
        )
        name = check_monitor_name(d.get("name"))
        deployment = d.get("deployment")
        if deployment is not None:
            deployment = _str(deployment, "deployment")
        reference = d.get("reference")
        if reference is not None:
            reference = _str(reference, "reference (a dataset version such as wine@2)")
        task = d.get("task")
        if task is not None and task not in TASKS:
            raise InvalidInput(f"task must be classification or regression, not {task!r}")
        window = WindowSpec.from_dict(d.get("window"))
        if window.type == "dataset":
            if reference is None and deployment is None:
                raise InvalidInput(
                    "a monitor of dataset windows needs a reference (reference: NAME@N) or a "
                    "deployment whose model's training data is the reference"
                )
        elif deployment is None:
            raise InvalidInput(
                f"a monitor of {window.type} windows watches a deployment's prediction log; "
                "set deployment: NAME (or use window: {type: dataset, dataset: NAME@N})"
            )
        default_schedule = window.size if window.type == "time" else 60.0
        schedule = parse_duration(d.get("schedule", default_schedule), "schedule")
        if schedule < 0.01:
            raise InvalidInput("schedule must be at least 10ms")
        rules = tuple(
            AlertRule.from_dict(r, i)
            for i, r in enumerate(_list(d.get("alert_rules"), "alert_rules"))
        )
        notifiers = tuple(
            NotifierSpec.from_dict(n, i)
            for i, n in enumerate(_list(d.get("notifiers"), "notifiers"))
        )
        _unique([r.name for r in rules], "alert_rules names")
        _unique([n.name for n in notifiers], "notifiers names")
        known = {n.name for n in notifiers} | {"log"}
        for rule in rules:
            for target in rule.notify or ():
                if target not in known:
                    raise InvalidInput(
                        f"alert rule {rule.name!r} notifies {target!r}, which is not among the "
                        f"monitor's notifiers ({', '.join(sorted(known))})"
                    )
        description = d.get("description") or ""
        if not isinstance(description, str):
            raise InvalidInput("description must be text")
        return cls(
            name=name,
            deployment=deployment,
            reference=reference,
            task=task,
            window=window,
            checks=Checks.from_dict(d.get("checks")),
            schedule=schedule,
            rules=rules,
            notifiers=notifiers,
            description=description,
        )

    @classmethod
    def from_monitor(cls, monitor: Monitor) -> MonitorSpec:
        """Interpret a stored monitor (its normal form parses back to the same spec)."""
        return cls.from_dict(monitor.definition())

    def to_monitor(self) -> Monitor:
        """The entity to store."""
        return Monitor(
            name=self.name,
            deployment=self.deployment,
            reference=self.reference,
            task=self.task,
            window=self.window.to_dict(),
            checks=self.checks.to_dict(),
            schedule=self.schedule,
            alert_rules=tuple(r.to_dict() for r in self.rules),
            notifiers=tuple(n.to_dict() for n in self.notifiers),
            description=self.description,
        )

    def rule(self, name: str) -> AlertRule | None:
        """The rule named ``name``, if any."""
        return next((r for r in self.rules if r.name == name), None)


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"{what} must be a list, not {value!r}")
    return list(value)


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InvalidInput(f"{what} must be unique; {n!r} appears twice")
        seen.add(n)
