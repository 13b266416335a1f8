"""The alert lifecycle: fire once, dedup while open, duration, cooldown, ack, auto-resolve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from modelward.entities.monitoring import (
    AlertStatus,
    MonitorResult,
    Notification,
    NotificationStatus,
)
from modelward.errors import Conflict
from modelward.monitoring.alerts import AlertManager, rule_state
from modelward.monitoring.spec import AlertRule, MonitorSpec, NotifierSpec
from modelward.store.metadata.base import MetadataStore

MIN = 60_000


class FakeDispatcher:
    """Records what would be delivered."""

    def __init__(self) -> None:
        self.sent: list[tuple[Notification, NotifierSpec | None, Mapping[str, Any]]] = []

    def submit(
        self, record: Notification, config: NotifierSpec | None, payload: Mapping[str, Any]
    ) -> None:
        self.sent.append((record, config, payload))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


def _spec(**rule: Any) -> MonitorSpec:
    return MonitorSpec.from_dict(
        {
            "name": "m",
            "deployment": "prod",
            "window": {"size": "1m"},
            "alert_rules": [
                {"name": "drift", "metric": "drift.share", "condition": ">= 0.5", **rule}
            ],
            "notifiers": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/x"}],
        }
    )


@pytest.fixture
def setup(sqlite_store: MetadataStore) -> tuple[MetadataStore, AlertManager, FakeDispatcher, Clock]:
    dispatcher = FakeDispatcher()
    clock = Clock()
    manager = AlertManager(sqlite_store, dispatcher, clock=clock)  # type: ignore[arg-type]
    return sqlite_store, manager, dispatcher, clock


def _window(store: MetadataStore, i: int, value: float | None, key: str = "drift.share") -> int:
    start = i * MIN
    store.put_monitor_results([MonitorResult("m", start, start + MIN, key, value, {})])
    return start


def test_fire_once_dedup_then_auto_resolve(setup: Any) -> None:
    store, manager, dispatcher, clock = setup
    spec = _spec()
    store.create_monitor(spec.to_monitor())
    assert manager.evaluate(spec, window_start=_window(store, 0, 0.1)) == []

    fired = manager.evaluate(spec, window_start=_window(store, 1, 0.7))
    assert [e.action for e in fired] == ["fired"]
    alert = fired[0].alert
    assert alert.status is AlertStatus.FIRING
    assert alert.dedup_key == "m/drift"
    assert len(dispatcher.sent) == 1
    _, config, payload = dispatcher.sent[0]
    assert config is not None
    assert config.name == "hook"
    assert payload["event"] == "firing"
    assert payload["text"].startswith("[warning] m: drift — drift.share = 0.7")

    clock.now += MIN
    again = manager.evaluate(spec, window_start=_window(store, 2, 0.8))
    assert [e.action for e in again] == ["updated"]
    assert again[0].alert.id == alert.id
    assert again[0].alert.count == 2
    assert again[0].alert.value == 0.8
    assert len(dispatcher.sent) == 1  # deduplicated: no second notification
    assert len(store.list_alerts()) == 1

    # Missing data neither fires nor resolves.
    assert manager.evaluate(spec, window_start=_window(store, 3, None)) == []
    assert store.get_alert(alert.id).status is AlertStatus.FIRING

    resolved = manager.evaluate(spec, window_start=_window(store, 4, 0.2))
    assert [e.action for e in resolved] == ["resolved"]
    assert resolved[0].alert.resolved_by == "auto"
    assert resolved[0].alert.status is AlertStatus.RESOLVED
    assert [p["event"] for _, _, p in dispatcher.sent] == ["firing", "resolved"]


def test_duration_in_windows(setup: Any) -> None:
    store, manager, _, _ = setup
    spec = _spec(duration=3)
    store.create_monitor(spec.to_monitor())
    actions = [
        [e.action for e in manager.evaluate(spec, window_start=_window(store, i, v))]
        for i, v in enumerate([0.9, 0.9, 0.1, 0.9, 0.9, 0.9])
    ]
    assert actions == [[], [], [], [], [], ["fired"]]


def test_duration_in_time() -> None:
    rule = AlertRule.from_dict({"metric": "x", "condition": "> 1", "duration": "3m"})
    points = [MonitorResult("m", i * MIN, (i + 1) * MIN, "x", 2.0) for i in range(3)]
    assert rule_state(rule, points[:2]) == "pending"
    assert rule_state(rule, points) == "firing"
    assert rule_state(rule, [*points, MonitorResult("m", 3 * MIN, 4 * MIN, "x", 0.0)]) == "clear"
    assert rule_state(rule, []) == "unknown"


def test_cooldown_records_but_does_not_notify_again(setup: Any) -> None:
    store, manager, dispatcher, clock = setup
    spec = _spec(cooldown="1h", notify_resolved=False)
    store.create_monitor(spec.to_monitor())
    manager.evaluate(spec, window_start=_window(store, 0, 0.9))
    clock.now += MIN
    manager.evaluate(spec, window_start=_window(store, 1, 0.1))  # resolves
    clock.now += 10 * MIN
    refired = manager.evaluate(spec, window_start=_window(store, 2, 0.9))
    assert [e.action for e in refired] == ["fired"]
    assert refired[0].alert.details["suppressed"] == "cooldown"
    assert len(dispatcher.sent) == 1  # only the first firing went out
    notes = store.list_notifications(alert_id=refired[0].alert.id)
    assert [n.status for n in notes] == [NotificationStatus.SUPPRESSED]

    clock.now += 2 * 3_600_000  # past the cooldown
    manager.evaluate(spec, window_start=_window(store, 3, 0.1))
    manager.evaluate(spec, window_start=_window(store, 4, 0.9))
    assert len(dispatcher.sent) == 2


def test_acknowledge_and_manual_resolve(setup: Any) -> None:
    store, manager, dispatcher, _ = setup
    spec = _spec()
    store.create_monitor(spec.to_monitor())
    alert = manager.evaluate(spec, window_start=_window(store, 0, 0.9))[0].alert
    acked = manager.acknowledge(alert.id, "alice")
    assert (acked.status, acked.acknowledged_by) == (AlertStatus.ACKNOWLEDGED, "alice")
    assert manager.acknowledge(alert.id, "bob").acknowledged_by == "alice"  # idempotent
    # Still open while acknowledged: a firing window updates it, sends nothing.
    updated = manager.evaluate(spec, window_start=_window(store, 1, 0.9))[0]
    assert (updated.action, updated.alert.status) == ("updated", AlertStatus.ACKNOWLEDGED)
    assert len(dispatcher.sent) == 1

    done = manager.resolve(alert.id, "alice")
    assert (done.status, done.resolved_by) == (AlertStatus.RESOLVED, "alice")
    with pytest.raises(Conflict, match=f"alert {alert.id} is resolved already; nothing to"):
        manager.acknowledge(alert.id, "alice")
    assert manager.resolve(alert.id, "bob").resolved_by == "alice"


def test_anomalous_condition_reads_the_anomaly_flag(setup: Any) -> None:
    store, manager, _, _ = setup
    spec = MonitorSpec.from_dict(
        {
            "name": "m",
            "deployment": "prod",
            "alert_rules": [
                {"name": "latency", "metric": "ops.latency_p95", "condition": "anomalous"}
            ],
        }
    )
    store.create_monitor(spec.to_monitor())
    store.put_monitor_results(
        [MonitorResult("m", 0, MIN, "anomaly.ops.latency_p95", 9.0, {"anomalous": True})]
    )
    (event,) = manager.evaluate(spec, window_start=0)
    assert event.action == "fired"
    assert event.alert.metric == "ops.latency_p95"
