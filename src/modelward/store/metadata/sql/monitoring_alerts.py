"""SQL implementation of alerts and notifications (``MonitoringStore``, second part)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from modelward.entities.monitoring import (
    Alert,
    AlertStatus,
    Notification,
    NotificationStatus,
    Severity,
)
from modelward.errors import Conflict, NotFound
from modelward.store.metadata.monitoring import MonitoringStore
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.tables.monitoring import alerts, notifications

__all__ = ["SqlAlertStore"]


def _opt(value: Any) -> int | None:
    return None if value is None else int(value)


def _alert(row: Any) -> Alert:
    return Alert(
        id=int(row.id),
        monitor=row.monitor,
        rule=row.rule,
        dedup_key=row.dedup_key,
        status=AlertStatus(row.status),
        severity=Severity(row.severity),
        metric=row.metric,
        value=None if row.value is None else float(row.value),
        message=row.message,
        first_seen=int(row.first_seen),
        last_seen=int(row.last_seen),
        count=int(row.count),
        window_start=_opt(row.window_start),
        window_end=_opt(row.window_end),
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=_opt(row.acknowledged_at),
        resolved_at=_opt(row.resolved_at),
        resolved_by=row.resolved_by,
        last_notified_at=_opt(row.last_notified_at),
        details=dict(row.details or {}),
    )


def _alert_values(a: Alert) -> dict[str, Any]:
    value = a.value if a.value is not None and math.isfinite(a.value) else None
    return {
        "monitor": a.monitor,
        "rule": a.rule,
        "dedup_key": a.dedup_key,
        "open_key": a.dedup_key if a.is_open else None,
        "status": a.status.value,
        "severity": a.severity.value,
        "metric": a.metric,
        "value": value,
        "message": a.message,
        "first_seen": a.first_seen,
        "last_seen": a.last_seen,
        "count": a.count,
        "window_start": a.window_start,
        "window_end": a.window_end,
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_at": a.acknowledged_at,
        "resolved_at": a.resolved_at,
        "resolved_by": a.resolved_by,
        "last_notified_at": a.last_notified_at,
        "details": dict(a.details),
    }


def _notification(row: Any) -> Notification:
    return Notification(
        id=int(row.id),
        alert_id=int(row.alert_id),
        notifier=row.notifier,
        event=row.event,
        status=NotificationStatus(row.status),
        attempts=int(row.attempts),
        last_error=row.last_error,
        created_at=int(row.created_at),
        updated_at=int(row.updated_at),
        sent_at=_opt(row.sent_at),
    )


def _alert_not_found(alert_id: int) -> NotFound:
    return NotFound(
        f"alert {alert_id} does not exist; list them with: modelward alerts list",
        details={"alert": alert_id},
    )


class SqlAlertStore(MonitoringStore):
    """Alerts and notification records in SQL. Mixed into the full SQL metadata store."""

    _db: Database

    def create_alert(self, alert: Alert) -> Alert:
        with self._db.write() as conn:
            if alert.is_open:
                taken = conn.execute(
                    sa.select(alerts.c.id).where(alerts.c.open_key == alert.dedup_key)
                ).first()
                if taken is not None:
                    raise Conflict(
                        f"alert {taken.id} for {alert.dedup_key!r} is still open; update it "
                        "instead of opening another",
                        details={"alert": int(taken.id), "dedup_key": alert.dedup_key},
                    )
            # The unique index on open_key backs the check above against a racing writer
            # (PostgreSQL; SQLite writers are serialised by BEGIN IMMEDIATE).
            result = conn.execute(alerts.insert().values(**_alert_values(alert)))
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            row = conn.execute(sa.select(alerts).where(alerts.c.id == new_id)).one()
        return _alert(row)

    def get_alert(self, alert_id: int) -> Alert:
        with self._db.read() as conn:
            row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise _alert_not_found(alert_id)
        return _alert(row)

    def get_open_alert(self, dedup_key: str) -> Alert | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(alerts).where(alerts.c.open_key == dedup_key)).first()
        return None if row is None else _alert(row)

    def get_latest_alert(self, dedup_key: str) -> Alert | None:
        query = (
            sa.select(alerts)
            .where(alerts.c.dedup_key == dedup_key)
            .order_by(alerts.c.id.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _alert(row)

    def update_alert(self, alert: Alert) -> Alert:
        with self._db.write() as conn:
            done = conn.execute(
                alerts.update().where(alerts.c.id == alert.id).values(**_alert_values(alert))
            )
            if not done.rowcount:
                raise _alert_not_found(alert.id)
            row = conn.execute(sa.select(alerts).where(alerts.c.id == alert.id)).one()
        return _alert(row)

    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        status: Sequence[AlertStatus] | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        query = sa.select(alerts)
        if monitor is not None:
            query = query.where(alerts.c.monitor == monitor)
        if status is not None:
            query = query.where(alerts.c.status.in_([AlertStatus(s).value for s in status]))
        query = query.order_by(alerts.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [_alert(r) for r in rows]

    # -- notifications -------------------------------------------------------------------------
    def create_notification(self, notification: Notification) -> Notification:
        n = notification
        with self._db.write() as conn:
            monitor = conn.execute(
                sa.select(alerts.c.monitor).where(alerts.c.id == n.alert_id)
            ).scalar()
            if monitor is None:
                raise _alert_not_found(n.alert_id)
            result = conn.execute(
                notifications.insert().values(
                    alert_id=n.alert_id,
                    monitor=monitor,
                    notifier=n.notifier,
                    event=n.event,
                    status=n.status.value,
                    attempts=n.attempts,
                    last_error=n.last_error,
                    created_at=n.created_at,
                    updated_at=n.updated_at or n.created_at,
                    sent_at=n.sent_at,
                )
            )
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            row = conn.execute(sa.select(notifications).where(notifications.c.id == new_id)).one()
        return _notification(row)

    def update_notification(self, notification: Notification) -> Notification:
        n = notification
        with self._db.write() as conn:
            done = conn.execute(
                notifications.update()
                .where(notifications.c.id == n.id)
                .values(
                    status=n.status.value,
                    attempts=n.attempts,
                    last_error=n.last_error,
                    updated_at=n.updated_at,
                    sent_at=n.sent_at,
                )
            )
            if not done.rowcount:
                raise NotFound(
                    f"notification {n.id} does not exist", details={"notification": n.id}
                )
            row = conn.execute(sa.select(notifications).where(notifications.c.id == n.id)).one()
        return _notification(row)

    def list_notifications(
        self, *, alert_id: int | None = None, monitor: str | None = None, limit: int = 100
    ) -> list[Notification]:
        query = sa.select(notifications)
        if alert_id is not None:
            query = query.where(notifications.c.alert_id == alert_id)
        if monitor is not None:
            query = query.where(notifications.c.monitor == monitor)
        query = query.order_by(notifications.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [_notification(r) for r in rows]
