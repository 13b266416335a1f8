"""SQL implementation of the alias and audit-log part of the registry contract.

A move locks the model's row first (see :mod:`modelward.store.metadata.sql.registry`), reads
the alias, writes it and appends the audit entry, all in one transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from modelward.entities import now_ms
from modelward.entities.models import AuditEntry, VersionStatus
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.store.metadata.registry import check_alias
from modelward.store.metadata.sql.registry_rows import RegistryRows, version_number
from modelward.store.metadata.sql.tables.registry import (
    audit_log,
    model_aliases,
)

__all__ = ["SqlAliasStore"]


class SqlAliasStore(RegistryRows):
    """Aliases and the audit log in SQL. Mixed into :class:`SqlRegistryStore`."""

    # -- aliases ------------------------------------------------------------------------------
    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        actor: str,
        expected_version: int | None = None,
        expect_absent: bool = False,
    ) -> int | None:
        alias = check_alias(alias)
        version = version_number(version)
        with self._db.write() as conn:
            self._touch(conn, name)
            row = self._version_row(conn, name, version)
            if row.status != VersionStatus.READY.value:
                raise Conflict(
                    f"version {version} of {name!r} is {row.status}; an alias can only point at "
                    "a READY version"
                    + (
                        " (restore it first: modelward models restore)"
                        if row.status == VersionStatus.ARCHIVED.value
                        else ""
                    ),
                    details={"model": name, "version": version, "status": row.status},
                )
            current = conn.execute(
                sa.select(model_aliases.c.version).where(
                    model_aliases.c.model_name == name, model_aliases.c.alias == alias
                )
            ).scalar_one_or_none()
            if (expect_absent and current is not None) or (
                expected_version is not None and current != expected_version
            ):
                expected = "no version" if expect_absent else f"version {expected_version}"
                raise Conflict(
                    f"alias {alias!r} of {name!r} points at "
                    f"{'nothing' if current is None else f'version {current}'}, not {expected}; "
                    "someone moved it meanwhile: read it again and retry",
                    details={"model": name, "alias": alias, "current": current},
                )
            if current == version:
                return int(current)
            stmt = self._insert(model_aliases).values(
                model_name=name, alias=alias, version=version, updated_at=now_ms()
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["model_name", "alias"],
                    set_={"version": version, "updated_at": stmt.excluded.updated_at},
                )
            )
            self._audit(
                conn,
                name,
                "set_alias",
                actor,
                version=version,
                before=None if current is None else {"alias": alias, "version": current},
                after={"alias": alias, "version": version},
            )
            return None if current is None else int(current)

    def delete_alias(self, name: str, alias: str, *, actor: str) -> int:
        with self._db.write() as conn:
            self._touch(conn, name)
            current = conn.execute(
                sa.select(model_aliases.c.version).where(
                    model_aliases.c.model_name == name, model_aliases.c.alias == alias
                )
            ).scalar_one_or_none()
            if current is None:
                raise NotFound(
                    f"model {name!r} has no alias {alias!r}",
                    details={"model": name, "alias": alias},
                )
            conn.execute(
                model_aliases.delete().where(
                    model_aliases.c.model_name == name, model_aliases.c.alias == alias
                )
            )
            self._audit(
                conn,
                name,
                "delete_alias",
                actor,
                version=int(current),
                before={"alias": alias, "version": int(current)},
            )
            return int(current)

    def get_alias(self, name: str, alias: str) -> int:
        with self._db.read() as conn:
            current = conn.execute(
                sa.select(model_aliases.c.version).where(
                    model_aliases.c.model_name == name, model_aliases.c.alias == alias
                )
            ).scalar_one_or_none()
            if current is None:
                self._model(conn, name)
                raise NotFound(
                    f"model {name!r} has no alias {alias!r}; set it with: "
                    f"modelward models alias set {name} {alias} VERSION",
                    details={"model": name, "alias": alias},
                )
            return int(current)

    # -- audit --------------------------------------------------------------------------------
    def list_audit_entries(
        self, name: str | None = None, *, limit: int = 1000, after_id: int = 0
    ) -> list[AuditEntry]:
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"limit must be a positive integer, not {limit!r}")
        query = sa.select(audit_log).where(audit_log.c.id > after_id)
        if name is not None:
            query = query.where(audit_log.c.model_name == name)
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(audit_log.c.id).limit(limit))
            return [
                AuditEntry(
                    id=int(r.id),
                    model=r.model_name,
                    action=r.action,
                    actor=r.actor,
                    timestamp=r.timestamp,
                    version=r.version,
                    before=r.before,
                    after=r.after,
                )
                for r in rows
            ]
