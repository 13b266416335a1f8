"""SQL implementation of :class:`~modelward.store.metadata.deployments.DeploymentStore`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelward.entities import now_ms
from modelward.entities.deployments import (
    Batching,
    Deployment,
    DeploymentChange,
    DeploymentStatus,
    Feedback,
    Limits,
    ModelTarget,
)
from modelward.errors import AlreadyExists, Conflict, NotFound
from modelward.store.metadata.deployments import DeploymentStore
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.tables.deployments import (
    deployment_history,
    deployments,
    prediction_feedback,
)

__all__ = ["SqlDeploymentStore"]

# Servers poll one deployment every second or two: a prebuilt statement keeps that cheap.
_GET = sa.select(deployments).where(deployments.c.name == sa.bindparam("name"))


def _target(name: str | None, alias: str | None, version: int | None) -> ModelTarget | None:
    return None if name is None else ModelTarget(name, alias, version)


def _from_row(row: Any) -> Deployment:
    target = _target(row.model_name, row.model_alias, row.model_version)
    assert target is not None
    return Deployment(
        name=row.name,
        target=target,
        current_version=row.current_version,
        previous_versions=tuple(int(v) for v in row.previous_versions or ()),
        canary=_target(row.canary_name, row.canary_alias, row.canary_version),
        canary_percent=float(row.canary_percent),
        sticky_header=row.sticky_header,
        shadow=_target(row.shadow_name, row.shadow_alias, row.shadow_version),
        batching=Batching(int(row.max_batch_size), float(row.max_wait_ms)),
        limits=Limits(int(row.max_body_bytes), int(row.max_rows), bool(row.allow_nan)),
        status=DeploymentStatus(row.status),
        revision=int(row.revision),
        created_at=int(row.created_at),
        updated_at=int(row.updated_at),
        description=row.description or "",
    )


def _values(d: Deployment) -> dict[str, Any]:
    canary, shadow = d.canary, d.shadow
    return {
        "name": d.name,
        "model_name": d.target.model,
        "model_alias": d.target.alias,
        "model_version": d.target.version,
        "current_version": d.current_version,
        "previous_versions": list(d.previous_versions),
        "canary_name": None if canary is None else canary.model,
        "canary_alias": None if canary is None else canary.alias,
        "canary_version": None if canary is None else canary.version,
        "canary_percent": float(d.canary_percent),
        "sticky_header": d.sticky_header,
        "shadow_name": None if shadow is None else shadow.model,
        "shadow_alias": None if shadow is None else shadow.alias,
        "shadow_version": None if shadow is None else shadow.version,
        "max_batch_size": d.batching.max_batch_size,
        "max_wait_ms": float(d.batching.max_wait_ms),
        "max_body_bytes": d.limits.max_body_bytes,
        "max_rows": d.limits.max_rows,
        "allow_nan": d.limits.allow_nan,
        "status": d.status.value,
        "revision": d.revision,
        "description": d.description,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


class SqlDeploymentStore(DeploymentStore):
    """Deployments in SQL. Mixed into the full SQL metadata store."""

    _db: Database

    @staticmethod
    def _row(conn: Connection, name: str) -> Any:
        row = conn.execute(_GET, {"name": name}).first()
        if row is None:
            raise NotFound(
                f"deployment {name!r} does not exist; list them with: modelward deploy list",
                details={"deployment": name},
            )
        return row

    @staticmethod
    def _history(
        conn: Connection,
        name: str,
        revision: int,
        action: str,
        actor: str,
        time: int,
        before: Deployment | None,
        after: Deployment | None,
    ) -> None:
        conn.execute(
            deployment_history.insert().values(
                deployment=name,
                revision=revision,
                action=action,
                actor=actor,
                time=time,
                before=None if before is None else before.to_dict(),
                after=None if after is None else after.to_dict(),
            )
        )

    def create_deployment(self, deployment: Deployment, *, actor: str) -> Deployment:
        now = now_ms()
        created = Deployment(
            **{
                **{f: getattr(deployment, f) for f in deployment.__dataclass_fields__},
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        with self._db.write() as conn:
            if conn.execute(_GET, {"name": deployment.name}).first() is not None:
                raise AlreadyExists(
                    f"deployment {deployment.name!r} already exists; change it with: "
                    f"modelward deploy update {deployment.name} …",
                    details={"deployment": deployment.name},
                )
            conn.execute(deployments.insert().values(**_values(created)))
            self._history(conn, created.name, 1, "create", actor, now, None, created)
        return created

    def get_deployment(self, name: str) -> Deployment:
        with self._db.read() as conn:
            return _from_row(self._row(conn, name))

    def list_deployments(self) -> list[Deployment]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(deployments).order_by(deployments.c.name)).all()
        return [_from_row(r) for r in rows]

    def update_deployment(
        self,
        deployment: Deployment,
        *,
        actor: str,
        action: str = "update",
        expected_revision: int | None = None,
    ) -> Deployment:
        now = now_ms()
        with self._db.write() as conn:
            before = _from_row(self._row(conn, deployment.name))
            if expected_revision is not None and before.revision != expected_revision:
                raise Conflict(
                    f"deployment {deployment.name!r} changed meanwhile (revision "
                    f"{before.revision}, expected {expected_revision}); read it again and retry",
                    details={"revision": before.revision, "expected": expected_revision},
                )
            after = Deployment(
                **{
                    **{f: getattr(deployment, f) for f in deployment.__dataclass_fields__},
                    "revision": before.revision + 1,
                    "created_at": before.created_at,
                    "updated_at": now,
                }
            )
            conn.execute(
                deployments.update()
                .where(deployments.c.name == deployment.name)
                .values(**_values(after))
            )
            self._history(conn, after.name, after.revision, action, actor, now, before, after)
        return after

    def delete_deployment(self, name: str, *, actor: str) -> None:
        now = now_ms()
        with self._db.write() as conn:
            before = _from_row(self._row(conn, name))
            conn.execute(deployments.delete().where(deployments.c.name == name))
            self._history(conn, name, 0, "delete", actor, now, before, None)

    def list_deployment_history(self, name: str, *, limit: int = 1000) -> list[DeploymentChange]:
        query = (
            sa.select(deployment_history)
            .where(deployment_history.c.deployment == name)
            .order_by(deployment_history.c.id.desc())
            .limit(limit)
        )
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [
            DeploymentChange(
                id=int(r.id),
                deployment=r.deployment,
                revision=int(r.revision),
                action=r.action,
                actor=r.actor,
                time=int(r.time),
                before=r.before,
                after=r.after,
            )
            for r in reversed(rows)
        ]

    def put_feedback(self, deployment: str, labels: Sequence[tuple[str, Any]], *, time: int) -> int:
        if not labels:
            return 0
        stmt = self._db.insert(prediction_feedback)
        stmt = stmt.on_conflict_do_update(
            index_elements=["deployment", "request_id"],
            set_={"label": stmt.excluded.label, "time": stmt.excluded.time},
        )
        # One label per request id: the last one in the call wins, as a later call would.
        latest = dict(labels)
        with self._db.write() as conn:
            conn.execute(
                stmt,
                [
                    {"deployment": deployment, "request_id": rid, "label": label, "time": time}
                    for rid, label in latest.items()
                ],
            )
        return len(latest)

    def list_feedback(
        self,
        deployment: str,
        *,
        start: int | None = None,
        end: int | None = None,
        request_ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Feedback]:
        t = prediction_feedback
        query = sa.select(t).where(t.c.deployment == deployment)
        if start is not None:
            query = query.where(t.c.time >= start)
        if end is not None:
            query = query.where(t.c.time < end)
        out: list[Feedback] = []
        with self._db.read() as conn:
            if request_ids is not None:
                ids = list(request_ids)
                for i in range(0, len(ids), 500):
                    chunk = query.where(t.c.request_id.in_(ids[i : i + 500]))
                    out.extend(_feedback(r) for r in conn.execute(chunk))
                out.sort(key=lambda f: (f.time, f.request_id))
                return out[:limit] if limit is not None else out
            query = query.order_by(t.c.time, t.c.request_id)
            if limit is not None:
                query = query.limit(limit)
            return [_feedback(r) for r in conn.execute(query)]


def _feedback(row: Any) -> Feedback:
    return Feedback(row.deployment, row.request_id, row.label, int(row.time))
