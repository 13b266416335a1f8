"""Alert rules: a condition over a metric's recent windows; fire, dedup, cool down, resolve.

A rule (``metric``, ``condition``, ``duration``, ``severity``, ``cooldown``) is evaluated after
each window a monitor stores:

- **state**: ``firing`` when the condition held in the latest ``duration`` consecutive windows
  (or for windows spanning at least ``duration`` of time), ``pending`` when it holds but not
  yet long enough, ``clear`` when it does not hold, ``unknown`` when the latest window has no
  value for the metric (nothing changes then: missing data neither fires nor resolves).
- **fire once**: the first ``firing`` evaluation opens an alert and notifies; while it stays
  open (firing or acknowledged) later ``firing`` evaluations only update it (``count``,
  ``last_seen``): one alert per dedup key ``<monitor>/<rule>``, enforced by the store.
- **cooldown**: an alert that fires again less than ``cooldown`` after the rule's last
  notification is recorded, but its notification is recorded as ``suppressed``.
- **resolve**: the first ``clear`` evaluation resolves the open alert (``resolved_by: auto``)
  and, with ``notify_resolved``, notifies that it cleared.
- **acknowledge**: a person acknowledges an alert (no further notifications while it stays
  open); it still resolves automatically.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelward.entities import now_ms
from modelward.entities.monitoring import (
    Alert,
    AlertStatus,
    MonitorResult,
    Notification,
    NotificationStatus,
)
from modelward.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from modelward.monitoring.notifiers.dispatch import Dispatcher
    from modelward.monitoring.spec import AlertRule, MonitorSpec
    from modelward.store.metadata.base import MetadataStore

__all__ = ["AlertEvent", "AlertManager", "condition_holds", "rule_state", "series_key"]

log = logging.getLogger(__name__)

FIRING, PENDING, CLEAR, UNKNOWN = "firing", "pending", "clear", "unknown"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """What an evaluation did: ``fired``, ``updated`` or ``resolved`` an alert."""

    action: str
    alert: Alert

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"action": self.action, "alert": self.alert.to_dict()}


def series_key(rule: AlertRule) -> str:
    """The stored key a rule reads: the metric, or ``anomaly.<metric>`` for ``anomalous``."""
    return f"anomaly.{rule.metric}" if rule.op == "anomalous" else rule.metric


def condition_holds(rule: AlertRule, point: MonitorResult) -> bool | None:
    """Whether the condition holds for one stored value (``None``: no value)."""
    if rule.op == "anomalous":
        flag = point.details.get("anomalous")
        return None if flag is None else bool(flag)
    value = point.value
    if value is None or not math.isfinite(value):
        return None
    t = rule.threshold
    return {
        ">": value > t,
        ">=": value >= t,
        "<": value < t,
        "<=": value <= t,
        "==": value == t,
        "!=": value != t,
    }[rule.op]


def rule_state(rule: AlertRule, points: Sequence[MonitorResult]) -> str:
    """``firing``, ``pending``, ``clear`` or ``unknown`` from a key's points, oldest first."""
    if not points:
        return UNKNOWN
    latest = points[-1]
    first = condition_holds(rule, latest)
    if first is None:
        return UNKNOWN
    if not first:
        return CLEAR
    held = 0
    start = latest.window_start
    for point in reversed(points):
        if not condition_holds(rule, point):
            break
        held += 1
        start = point.window_start
    if rule.seconds is not None:
        return FIRING if latest.window_end - start >= rule.seconds * 1000 else PENDING
    return FIRING if held >= rule.windows else PENDING


class AlertManager:
    """Runs the alert lifecycle of monitors against the store.

    Args:
        store: The metadata store.
        dispatcher: Delivers notifications in the background.
        clock: Current time in ms (tests pass a fake one).
    """

    def __init__(
        self,
        store: MetadataStore,
        dispatcher: Dispatcher,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock

    def points(self, spec: MonitorSpec, rule: AlertRule, until: int | None) -> list[MonitorResult]:
        """The recent points a rule needs, up to the window starting at ``until``."""
        end = None if until is None else until + 1
        key = series_key(rule)
        if rule.seconds is None:
            return self.store.list_monitor_results(
                spec.name, keys=[key], end=end, limit=rule.windows
            )
        # Enough windows to span the duration, whatever the window size.
        return self.store.list_monitor_results(spec.name, keys=[key], end=end, limit=1000)

    def evaluate(
        self, spec: MonitorSpec, *, window_start: int | None = None, prefix: str = ""
    ) -> list[AlertEvent]:
        """Evaluate the rules of a monitor at the window starting at ``window_start``.

        With ``window_start=None`` each rule reads its metric's newest window (used after late
        labels updated past windows, with ``prefix="performance."`` to re-evaluate only the
        rules on the metrics that changed).
        """
        events = []
        for rule in spec.rules:
            if not series_key(rule).startswith(prefix):
                continue
            points = self.points(spec, rule, window_start)
            if window_start is not None and (not points or points[-1].window_start != window_start):
                continue  # this window has no value for the rule's metric
            state = rule_state(rule, points)
            event = self.apply(spec, rule, state, points[-1] if points else None)
            if event is not None:
                events.append(event)
        return events

    def apply(
        self, spec: MonitorSpec, rule: AlertRule, state: str, point: MonitorResult | None
    ) -> AlertEvent | None:
        """Move the rule's alert according to ``state``; return what happened."""
        key = f"{spec.name}/{rule.name}"
        now = self.clock()
        current = self.store.get_open_alert(key)
        if state == FIRING and point is not None:
            if current is not None:
                return AlertEvent("updated", self._touch(current, rule, point, now))
            return self._fire(spec, rule, key, point, now)
        if state == CLEAR and current is not None:
            resolved = self.store.update_alert(
                _replace(
                    current,
                    status=AlertStatus.RESOLVED,
                    resolved_at=now,
                    resolved_by="auto",
                    value=metric_value(rule, point) if point is not None else current.value,
                )
            )
            if rule.notify_resolved and current.last_notified_at is not None:
                self._notify(spec, rule, resolved, "resolved", suppressed=False)
            return AlertEvent("resolved", resolved)
        return None

    def _touch(self, alert: Alert, rule: AlertRule, point: MonitorResult, now: int) -> Alert:
        return self.store.update_alert(
            _replace(
                alert,
                last_seen=now,
                count=alert.count + 1,
                value=metric_value(rule, point),
                window_start=point.window_start,
                window_end=point.window_end,
            )
        )

    def _fire(
        self, spec: MonitorSpec, rule: AlertRule, key: str, point: MonitorResult, now: int
    ) -> AlertEvent:
        previous = self.store.get_latest_alert(key)
        last = previous.last_notified_at if previous is not None else None
        suppressed = last is not None and now - last < rule.cooldown * 1000
        alert = Alert(
            id=0,
            monitor=spec.name,
            rule=rule.name,
            dedup_key=key,
            status=AlertStatus.FIRING,
            severity=rule.severity,
            metric=rule.metric,
            value=metric_value(rule, point),
            message=_message(spec, rule, point),
            first_seen=now,
            last_seen=now,
            count=1,
            window_start=point.window_start,
            window_end=point.window_end,
            details={
                "condition": rule.condition,
                "duration": rule.to_dict()["duration"],
                "cooldown_s": rule.cooldown,
                "suppressed": "cooldown" if suppressed else None,
                **{k: v for k, v in point.details.items() if k in ("summary", "drifted_columns")},
            },
        )
        try:
            stored = self.store.create_alert(alert)
        except Conflict:
            # Another process opened it between our read and write: that one is the alert.
            current = self.store.get_open_alert(key)
            if current is None:  # pragma: no cover - resolved in between; nothing to do
                raise
            return AlertEvent("updated", self._touch(current, rule, point, now))
        stored = self._notify(spec, rule, stored, "firing", suppressed=suppressed)
        return AlertEvent("fired", stored)

    def _notify(
        self, spec: MonitorSpec, rule: AlertRule, alert: Alert, event: str, *, suppressed: bool
    ) -> Alert:
        names = list(rule.notify or [n.name for n in spec.notifiers] or ["log"])
        configs = {n.name: n for n in spec.notifiers}
        now = self.clock()
        for name in names:
            status = NotificationStatus.SUPPRESSED if suppressed else NotificationStatus.PENDING
            record = self.store.create_notification(
                Notification(0, alert.id, name, event, status, created_at=now, updated_at=now)
            )
            if not suppressed:
                self.dispatcher.submit(
                    record, configs.get(name), _payload(spec, rule, alert, event)
                )
        if suppressed or event != "firing":
            return alert
        return self.store.update_alert(_replace(alert, last_notified_at=now))

    # -- people ----------------------------------------------------------------------------------
    def acknowledge(self, alert_id: int, by: str) -> Alert:
        """Acknowledge an open alert.

        Raises:
            NotFound: No such alert.
            Conflict: It is resolved already.
        """
        alert = self.store.get_alert(alert_id)
        if alert.status is AlertStatus.RESOLVED:
            raise Conflict(
                f"alert {alert_id} is resolved already; nothing to acknowledge",
                details={"alert": alert_id},
            )
        if alert.status is AlertStatus.ACKNOWLEDGED:
            return alert
        return self.store.update_alert(
            _replace(
                alert,
                status=AlertStatus.ACKNOWLEDGED,
                acknowledged_by=by,
                acknowledged_at=self.clock(),
            )
        )

    def resolve(self, alert_id: int, by: str) -> Alert:
        """Resolve an alert by hand (it fires again if its condition still holds)."""
        alert = self.store.get_alert(alert_id)
        if alert.status is AlertStatus.RESOLVED:
            return alert
        return self.store.update_alert(
            _replace(alert, status=AlertStatus.RESOLVED, resolved_at=self.clock(), resolved_by=by)
        )


def _replace(alert: Alert, **changes: Any) -> Alert:
    import dataclasses

    return dataclasses.replace(alert, **changes)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def metric_value(rule: AlertRule, point: MonitorResult) -> float | None:
    """The watched metric's value (for ``anomalous`` rules the point holds the anomaly score)."""
    if rule.op != "anomalous":
        return point.value
    value = point.details.get("value")
    return float(value) if isinstance(value, int | float) else None


def _message(spec: MonitorSpec, rule: AlertRule, point: MonitorResult) -> str:
    from modelward.monitoring.windows import time_label

    if rule.op == "anomalous":
        condition = f"anomalous, score {_fmt(point.value)}"
    else:
        condition = f"condition {rule.condition}"
    return (
        f"{spec.name}: {rule.name} — {rule.metric} = {_fmt(metric_value(rule, point))} "
        f"({condition}) in window {time_label(point.window_start, point.window_end)}"
    )


def _payload(spec: MonitorSpec, rule: AlertRule, alert: Alert, event: str) -> dict[str, Any]:
    if event == "resolved":
        headline = f"[resolved] {alert.message}"
    else:
        headline = f"[{alert.severity.value}] {alert.message}"
    details = alert.details.get("summary")
    return {
        "event": event,
        "text": headline,
        "details": details if isinstance(details, str) else None,
        "alert": alert.to_dict(),
        "monitor": spec.name,
        "deployment": spec.deployment,
    }


def check_status_filter(values: Sequence[str] | None) -> list[AlertStatus] | None:
    """Validate ``--status`` values."""
    if not values:
        return None
    out = []
    for v in values:
        try:
            out.append(AlertStatus(v))
        except ValueError:
            raise InvalidInput(
                f"alert status {v!r} is unknown; use firing, acknowledged or resolved"
            ) from None
    return out
