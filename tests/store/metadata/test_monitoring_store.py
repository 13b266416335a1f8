"""The monitoring part of the metadata store: monitors, results, alerts, notifications.

Runs on SQLite, and on PostgreSQL when ``MODELWARD_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import dataclasses

import pytest

from modelward.entities.monitoring import (
    Alert,
    AlertStatus,
    Monitor,
    MonitorResult,
    Notification,
    NotificationStatus,
    Severity,
)
from modelward.errors import AlreadyExists, Conflict, NotFound
from modelward.store.metadata.base import MetadataStore


def _monitor(name: str = "m1", **changes: object) -> Monitor:
    base = Monitor(
        name=name,
        deployment="prod",
        window={"type": "time", "size": 3600.0},
        checks={"drift": {"enabled": True}},
        schedule=60.0,
        alert_rules=({"name": "r", "metric": "drift.share", "condition": ">= 0.3"},),
        notifiers=({"name": "log", "type": "log"},),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _alert(monitor: str = "m1", rule: str = "r", **changes: object) -> Alert:
    base = Alert(
        id=0,
        monitor=monitor,
        rule=rule,
        dedup_key=f"{monitor}/{rule}",
        status=AlertStatus.FIRING,
        severity=Severity.WARNING,
        metric="drift.share",
        value=0.5,
        message="drift",
        first_seen=1000,
        last_seen=1000,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_monitor_create_get_update_state_delete(store: MetadataStore) -> None:
    created = store.create_monitor(_monitor())
    assert created.created_at > 0
    assert created.last_run_at is None
    assert store.get_monitor("m1").definition() == _monitor().definition()
    with pytest.raises(AlreadyExists, match="monitor 'm1' already exists; replace it with"):
        store.create_monitor(_monitor())

    store.set_monitor_state("m1", {"cursor": 7200000}, last_run_at=5)
    updated = store.update_monitor(_monitor(schedule=5.0, description="new"))
    assert updated.schedule == 5.0
    assert updated.description == "new"
    assert updated.state == {"cursor": 7200000}  # progress survives a new definition
    assert updated.last_run_at == 5
    assert [m.name for m in store.list_monitors()] == ["m1"]

    store.delete_monitor("m1")
    with pytest.raises(NotFound, match="monitor 'm1' does not exist; list them with"):
        store.get_monitor("m1")
    with pytest.raises(NotFound, match="monitor 'm1' does not exist"):
        store.update_monitor(_monitor())
    with pytest.raises(NotFound, match="monitor 'm1' does not exist"):
        store.set_monitor_state("m1", {})


def test_results_are_replaced_per_monitor_window_and_key(store: MetadataStore) -> None:
    store.create_monitor(_monitor())
    store.put_monitor_results(
        [
            MonitorResult("m1", 0, 10, "performance.accuracy", 0.9, {"labelled": 3}),
            MonitorResult("m1", 0, 10, "drift.share", 0.1),
            MonitorResult("m1", 10, 20, "drift.share", 0.4),
        ]
    )
    # Late labels recompute window [0, 10): its value is replaced, nothing is added.
    store.put_monitor_results([MonitorResult("m1", 0, 10, "performance.accuracy", 0.7, {})])
    acc = store.list_monitor_results("m1", keys=["performance.accuracy"])
    assert [(r.window_start, r.value, dict(r.details)) for r in acc] == [(0, 0.7, {})]
    share = store.list_monitor_results("m1", keys=["drift.share"])
    assert [(r.window_start, r.value) for r in share] == [(0, 0.1), (10, 0.4)]


def test_results_filters_and_newest_limit(store: MetadataStore) -> None:
    store.create_monitor(_monitor())
    store.put_monitor_results(
        [MonitorResult("m1", t, t + 10, "ops.requests", float(t)) for t in range(0, 100, 10)]
        + [MonitorResult("m1", 0, 10, "ops_x", 1.0), MonitorResult("m1", 0, 10, "drift.col", None)]
    )
    newest = store.list_monitor_results("m1", keys=["ops.requests"], limit=3)
    assert [r.window_start for r in newest] == [70, 80, 90]  # newest three, oldest first
    ranged = store.list_monitor_results("m1", keys=["ops.requests"], start=20, end=50)
    assert [r.window_start for r in ranged] == [20, 30, 40]
    # "_" in a prefix is a literal character, not a LIKE wildcard.
    assert [r.key for r in store.list_monitor_results("m1", prefix="ops.")] == ["ops.requests"] * 10
    assert store.list_monitor_results("m1", prefix="drift.")[0].value is None
    assert store.list_monitor_results("m1", keys=[]) == []


def test_non_finite_result_values_are_stored_as_missing(store: MetadataStore) -> None:
    store.create_monitor(_monitor())
    store.put_monitor_results([MonitorResult("m1", 0, 1, "x", float("nan"))])
    assert store.list_monitor_results("m1")[0].value is None


def test_one_open_alert_per_dedup_key(store: MetadataStore) -> None:
    store.create_monitor(_monitor())
    first = store.create_alert(_alert())
    assert first.id > 0
    with pytest.raises(Conflict, match=f"alert {first.id} for 'm1/r' is still open"):
        store.create_alert(_alert())
    assert store.get_open_alert("m1/r") == first

    acked = store.update_alert(dataclasses.replace(first, status=AlertStatus.ACKNOWLEDGED))
    assert store.get_open_alert("m1/r") == acked  # acknowledged is still open
    store.update_alert(dataclasses.replace(acked, status=AlertStatus.RESOLVED, resolved_at=9))
    assert store.get_open_alert("m1/r") is None
    second = store.create_alert(_alert(first_seen=2000))
    assert second.id > first.id
    assert store.get_latest_alert("m1/r") == second
    assert [a.id for a in store.list_alerts()] == [second.id, first.id]
    assert [a.id for a in store.list_alerts(status=[AlertStatus.RESOLVED])] == [first.id]
    assert store.list_alerts(monitor="other") == []
    with pytest.raises(NotFound, match="alert 999 does not exist; list them with"):
        store.get_alert(999)
    with pytest.raises(NotFound, match="alert 999 does not exist"):
        store.update_alert(dataclasses.replace(second, id=999))


def test_notifications_records_and_delete_cascade(store: MetadataStore) -> None:
    store.create_monitor(_monitor())
    alert = store.create_alert(_alert())
    n = store.create_notification(
        Notification(0, alert.id, "slack", "firing", NotificationStatus.PENDING, created_at=5)
    )
    assert n.id > 0
    assert n.updated_at == 5
    failed = store.update_notification(
        dataclasses.replace(
            n, status=NotificationStatus.FAILED, attempts=3, last_error="refused", updated_at=9
        )
    )
    assert store.list_notifications(alert_id=alert.id) == [failed]
    assert store.list_notifications(monitor="m1") == [failed]
    with pytest.raises(NotFound, match="alert 999 does not exist"):
        store.create_notification(
            Notification(0, 999, "x", "firing", NotificationStatus.PENDING, created_at=1)
        )

    store.put_monitor_results([MonitorResult("m1", 0, 1, "x", 1.0)])
    store.delete_monitor("m1")
    assert store.list_monitor_results("m1") == []
    assert store.list_alerts(monitor="m1") == []
    assert store.list_notifications(monitor="m1") == []
