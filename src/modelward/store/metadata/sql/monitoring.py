"""SQL implementation of monitors and their results (``MonitoringStore``, first part).

Alerts and notifications are in :mod:`modelward.store.metadata.sql.monitoring_alerts`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from modelward.entities import now_ms
from modelward.entities.monitoring import Monitor, MonitorResult
from modelward.errors import AlreadyExists, NotFound
from modelward.store.metadata.monitoring import MonitoringStore
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.tables.monitoring import (
    alerts,
    monitor_results,
    monitors,
    notifications,
)

__all__ = ["SqlMonitorStore"]

#: Rows per multi-row upsert statement (keeps bind parameters well under driver limits).
_BATCH = 200


def _monitor(row: Any) -> Monitor:
    return Monitor(
        name=row.name,
        deployment=row.deployment,
        reference=row.reference,
        task=row.task,
        window=dict(row.window or {}),
        checks=dict(row.checks or {}),
        schedule=float(row.schedule),
        alert_rules=tuple(row.alert_rules or ()),
        notifiers=tuple(row.notifiers or ()),
        description=row.description or "",
        state=dict(row.state or {}),
        created_at=int(row.created_at),
        updated_at=int(row.updated_at),
        last_run_at=None if row.last_run_at is None else int(row.last_run_at),
    )


def _definition(m: Monitor) -> dict[str, Any]:
    return {
        "deployment": m.deployment,
        "reference": m.reference,
        "task": m.task,
        "window": dict(m.window),
        "checks": dict(m.checks),
        "schedule": float(m.schedule),
        "alert_rules": [dict(r) for r in m.alert_rules],
        "notifiers": [dict(n) for n in m.notifiers],
        "description": m.description,
    }


def _not_found(name: str) -> NotFound:
    return NotFound(
        f"monitor {name!r} does not exist; list them with: modelward monitor list",
        details={"monitor": name},
    )


def _finite(value: float | None) -> float | None:
    # JSON and PostgreSQL's float column disagree on NaN; a missing value is NULL everywhere.
    if value is None or not math.isfinite(value):
        return None
    return float(value)


class SqlMonitorStore(MonitoringStore):
    """Monitors and their results in SQL. Mixed into the full SQL metadata store."""

    _db: Database

    def create_monitor(self, monitor: Monitor) -> Monitor:
        now = now_ms()
        with self._db.write() as conn:
            exists = conn.execute(
                sa.select(monitors.c.name).where(monitors.c.name == monitor.name)
            ).first()
            if exists is not None:
                raise AlreadyExists(
                    f"monitor {monitor.name!r} already exists; replace it with: "
                    f"modelward monitor create -f FILE --replace",
                    details={"monitor": monitor.name},
                )
            conn.execute(
                monitors.insert().values(
                    name=monitor.name,
                    state=dict(monitor.state),
                    created_at=now,
                    updated_at=now,
                    last_run_at=None,
                    **_definition(monitor),
                )
            )
            row = conn.execute(sa.select(monitors).where(monitors.c.name == monitor.name)).one()
        return _monitor(row)

    def get_monitor(self, name: str) -> Monitor:
        with self._db.read() as conn:
            row = conn.execute(sa.select(monitors).where(monitors.c.name == name)).first()
        if row is None:
            raise _not_found(name)
        return _monitor(row)

    def list_monitors(self) -> list[Monitor]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(monitors).order_by(monitors.c.name)).all()
        return [_monitor(r) for r in rows]

    def update_monitor(self, monitor: Monitor) -> Monitor:
        with self._db.write() as conn:
            done = conn.execute(
                monitors.update()
                .where(monitors.c.name == monitor.name)
                .values(updated_at=now_ms(), **_definition(monitor))
            )
            if not done.rowcount:
                raise _not_found(monitor.name)
            row = conn.execute(sa.select(monitors).where(monitors.c.name == monitor.name)).one()
        return _monitor(row)

    def set_monitor_state(
        self, name: str, state: Mapping[str, Any], *, last_run_at: int | None = None
    ) -> None:
        values: dict[str, Any] = {"state": dict(state)}
        if last_run_at is not None:
            values["last_run_at"] = last_run_at
        with self._db.write() as conn:
            done = conn.execute(monitors.update().where(monitors.c.name == name).values(**values))
            if not done.rowcount:
                raise _not_found(name)

    def delete_monitor(self, name: str) -> None:
        with self._db.write() as conn:
            done = conn.execute(monitors.delete().where(monitors.c.name == name))
            if not done.rowcount:
                raise _not_found(name)
            conn.execute(monitor_results.delete().where(monitor_results.c.monitor == name))
            conn.execute(notifications.delete().where(notifications.c.monitor == name))
            conn.execute(alerts.delete().where(alerts.c.monitor == name))

    # -- results -------------------------------------------------------------------------------
    def put_monitor_results(self, results: Sequence[MonitorResult]) -> None:
        if not results:
            return
        stmt = self._db.insert(monitor_results)
        stmt = stmt.on_conflict_do_update(
            index_elements=["monitor", "window_start", "window_end", "key"],
            set_={
                "value": stmt.excluded.value,
                "details": stmt.excluded.details,
                "computed_at": stmt.excluded.computed_at,
            },
        )
        now = now_ms()
        # The last value given for a key wins, as a later call would.
        latest = {(r.monitor, r.window_start, r.window_end, r.key): r for r in results}
        rows = [
            {
                "monitor": r.monitor,
                "window_start": r.window_start,
                "window_end": r.window_end,
                "key": r.key,
                "value": _finite(r.value),
                "details": dict(r.details),
                "computed_at": r.computed_at or now,
            }
            for r in latest.values()
        ]
        with self._db.write() as conn:
            for i in range(0, len(rows), _BATCH):
                conn.execute(stmt, rows[i : i + _BATCH])

    def list_monitor_results(
        self,
        monitor: str,
        *,
        keys: Sequence[str] | None = None,
        prefix: str | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
    ) -> list[MonitorResult]:
        t = monitor_results
        query = sa.select(t).where(t.c.monitor == monitor)
        if keys is not None:
            if not keys:
                return []
            query = query.where(t.c.key.in_(list(keys)))
        if prefix:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(t.c.key.like(f"{escaped}%", escape="\\"))
        if start is not None:
            query = query.where(t.c.window_start >= start)
        if end is not None:
            query = query.where(t.c.window_start < end)
        if limit is not None:
            query = query.order_by(t.c.window_start.desc(), t.c.window_end.desc(), t.c.key)
            query = query.limit(limit)
        else:
            query = query.order_by(t.c.window_start, t.c.window_end, t.c.key)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        out = [
            MonitorResult(
                monitor=r.monitor,
                window_start=int(r.window_start),
                window_end=int(r.window_end),
                key=r.key,
                value=None if r.value is None else float(r.value),
                details=dict(r.details or {}),
                computed_at=int(r.computed_at),
            )
            for r in rows
        ]
        if limit is not None:
            out.sort(key=lambda r: (r.window_start, r.window_end, r.key))
        return out
