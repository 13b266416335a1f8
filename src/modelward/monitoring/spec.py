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

from dataclasses import dataclass
from typing import Any

from modelward.entities.monitoring import Monitor, check_monitor_name
from modelward.errors import InvalidInput
from modelward.monitoring._spec_parse import (
    _int,
    _known,
    _list,
    _mapping,
    _names,
    _str,
    _unique,
    format_duration,
    parse_duration,
)
from modelward.monitoring.spec_alerts import OPERATORS, AlertRule, NotifierSpec
from modelward.monitoring.spec_checks import (
    AnomalyCheck,
    Checks,
    DriftCheck,
    PerformanceCheck,
    QualityCheck,
)

__all__ = [
    "OPERATORS",
    "TASKS",
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

TASKS = ("classification", "regression")


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
