"""Monitoring entities: monitor definitions, their results over time, alerts and notifications.

A :class:`Monitor` keeps its configuration in JSON-ready form (``window``, ``checks``,
``alert_rules``, ``notifiers``); :mod:`modelward.monitoring.spec` validates and interprets it.
Times are integer milliseconds since the epoch (UTC).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from modelward.errors import InvalidInput

__all__ = [
    "Alert",
    "AlertStatus",
    "Monitor",
    "MonitorResult",
    "Notification",
    "NotificationStatus",
    "Severity",
    "check_monitor_name",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_monitor_name(name: object) -> str:
    """Return ``name`` if it can name a monitor, else :class:`~modelward.errors.InvalidInput`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(
            f"monitor name {name!r} is not valid; use up to 128 letters, digits, '.', '-' or "
            "'_', starting with a letter or digit",
            details={"name": str(name)},
        )
    return name


class Severity(enum.StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(enum.StrEnum):
    """Life of an alert: firing, then acknowledged by a person and/or resolved."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class NotificationStatus(enum.StrEnum):
    """Delivery state of one notification."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    #: Not sent because the rule's cooldown had not passed since the last notification.
    SUPPRESSED = "suppressed"


@dataclass(frozen=True, slots=True)
class Monitor:
    """A monitor definition and its progress.

    Attributes:
        name: Unique name.
        deployment: The deployment whose prediction log is watched (``None`` for a monitor
            comparing dataset versions).
        reference: Explicit reference dataset version (``wine@2``); ``None``: the training
            data of the deployment's model version.
        task: ``classification`` or ``regression``; ``None``: from the model's training run.
        window: Window specification (see ``docs/monitoring.md``).
        checks: Which checks run and their parameters.
        schedule: Seconds between runs under ``modelward monitor watch``.
        alert_rules: Alert rules.
        notifiers: Named notifier configurations.
        description: Free text.
        state: Progress kept between runs (window cursor, feedback watermark).
        created_at: ms since the epoch.
        updated_at: ms since the epoch of the last change to the definition.
        last_run_at: When it last ran (``None`` before the first run).
    """

    name: str
    deployment: str | None = None
    reference: str | None = None
    task: str | None = None
    window: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    checks: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    schedule: float = 300.0
    alert_rules: Sequence[Mapping[str, Any]] = ()
    notifiers: Sequence[Mapping[str, Any]] = ()
    description: str = ""
    state: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    created_at: int = 0
    updated_at: int = 0
    last_run_at: int | None = None

    def definition(self) -> dict[str, Any]:
        """The user-facing definition (what ``monitor create -f`` reads), without progress."""
        return {
            "name": self.name,
            "deployment": self.deployment,
            "reference": self.reference,
            "task": self.task,
            "window": dict(self.window),
            "checks": dict(self.checks),
            "schedule": self.schedule,
            "alert_rules": [dict(r) for r in self.alert_rules],
            "notifiers": [dict(n) for n in self.notifiers],
            "description": self.description,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: definition, progress and times."""
        return {
            **self.definition(),
            "state": dict(self.state),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_run_at": self.last_run_at,
        }


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """One value of one monitored metric for one window.

    ``(monitor, window_start, window_end, key)`` is unique: computing a window again (late
    labels) replaces its values.

    Attributes:
        monitor: Monitor name.
        window_start: First ms of the window (inclusive).
        window_end: End of the window (exclusive).
        key: Metric key, e.g. ``drift.share``, ``performance.accuracy``, ``ops.latency_p95``.
        value: The value (``None`` when it could not be computed; ``details`` says why).
        details: Extra facts (method, p-value, baseline, anomaly flag, ...).
        computed_at: When it was (last) computed.
    """

    monitor: str
    window_start: int
    window_end: int
    key: str
    value: float | None
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    computed_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (non-finite values become ``None``)."""
        value = self.value
        if value is not None and not math.isfinite(value):
            value = None
        return {
            "monitor": self.monitor,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "key": self.key,
            "value": value,
            "details": dict(self.details),
            "computed_at": self.computed_at,
        }


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert raised by a rule of a monitor.

    At most one alert per ``dedup_key`` (monitor and rule) is open (firing or acknowledged)
    at a time; while it stays open, further matching windows only update it.

    Attributes:
        id: Sequence number (0 before it is stored).
        monitor: Monitor name.
        rule: Rule name.
        dedup_key: ``<monitor>/<rule>``.
        status: Firing, acknowledged or resolved.
        severity: Info, warning or critical.
        metric: The metric key the rule watches.
        value: The metric's value in the latest matching window.
        message: One line for a person.
        first_seen: When it fired.
        last_seen: When its condition last held.
        count: Evaluations in which the condition held while it was open.
        window_start: Start of the latest matching window.
        window_end: End of the latest matching window.
        acknowledged_by: Who acknowledged it.
        acknowledged_at: When.
        resolved_at: When it was resolved.
        resolved_by: ``auto`` (the condition cleared) or the person who resolved it.
        last_notified_at: When a notification was last queued for it.
        details: Rule settings and the values that made it fire.
    """

    id: int
    monitor: str
    rule: str
    dedup_key: str
    status: AlertStatus
    severity: Severity
    metric: str
    value: float | None
    message: str
    first_seen: int
    last_seen: int
    count: int = 1
    window_start: int | None = None
    window_end: int | None = None
    acknowledged_by: str | None = None
    acknowledged_at: int | None = None
    resolved_at: int | None = None
    resolved_by: str | None = None
    last_notified_at: int | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @property
    def is_open(self) -> bool:
        """Whether it is firing or acknowledged."""
        return self.status is not AlertStatus.RESOLVED

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        value = self.value
        if value is not None and not math.isfinite(value):
            value = None
        return {
            "id": self.id,
            "monitor": self.monitor,
            "rule": self.rule,
            "dedup_key": self.dedup_key,
            "status": self.status.value,
            "severity": self.severity.value,
            "metric": self.metric,
            "value": value,
            "message": self.message,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "count": self.count,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
            "resolved_at": self.resolved_at,
            "resolved_by": self.resolved_by,
            "last_notified_at": self.last_notified_at,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification of an alert event through one notifier, with its delivery record.

    Attributes:
        id: Sequence number (0 before it is stored).
        alert_id: The alert.
        notifier: Notifier name (from the monitor's ``notifiers``).
        event: ``firing`` or ``resolved``.
        status: Pending, sent, failed or suppressed.
        attempts: Delivery attempts made.
        last_error: The last attempt's error, if it failed.
        created_at: When it was queued.
        updated_at: When its record last changed.
        sent_at: When it was delivered.
    """

    id: int
    alert_id: int
    notifier: str
    event: str
    status: NotificationStatus
    attempts: int = 0
    last_error: str | None = None
    created_at: int = 0
    updated_at: int = 0
    sent_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "id": self.id,
            "alert_id": self.alert_id,
            "notifier": self.notifier,
            "event": self.event,
            "status": self.status.value,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "sent_at": self.sent_at,
        }
