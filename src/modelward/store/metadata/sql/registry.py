"""SQL implementation of :class:`~modelward.store.metadata.registry.RegistryStore`.

Every mutation runs in one write transaction that first "touches" the model's row
(``UPDATE registered_models SET updated_at = …``). On PostgreSQL that takes the row lock, so
concurrent changes to one model (two processes moving the same alias, numbering versions)
run one after the other and each sees the other's committed result; on SQLite the write
transaction is ``BEGIN IMMEDIATE``, which serialises all writers anyway. The audit entry is
inserted in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelward.entities import now_ms
from modelward.entities.models import AuditEntry, ModelVersion, RegisteredModel, VersionStatus
from modelward.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from modelward.store.metadata.registry import RegistryStore, check_alias, check_model_name
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.tables.registry import (
    audit_log,
    model_aliases,
    model_tags,
    model_version_tags,
    model_versions,
    registered_models,
)
from modelward.validation import check_key, check_value

__all__ = ["SqlRegistryStore"]


def _tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    return {check_key(k, "tag key"): check_value(v, f"tag {k!r}") for k, v in (tags or {}).items()}


def _version_number(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"a model version is a positive integer, not {version!r}")
    return version


def _model_missing(name: str) -> NotFound:
    return NotFound(
        f"registered model {name!r} does not exist; list them with: modelward models list",
        details={"model": name},
    )


class SqlRegistryStore(RegistryStore):
    """The model registry in SQL. Mixed into the full SQL metadata store."""

    _db: Database

    # -- helpers ---------------------------------------------------------------------------
    def _insert(self, table: sa.Table) -> Any:
        from sqlalchemy.dialects import postgresql, sqlite

        insert: Any = sqlite.insert if self._db.is_sqlite else postgresql.insert
        return insert(table)

    @staticmethod
    def _audit(
        conn: Connection,
        name: str,
        action: str,
        actor: str,
        *,
        version: int | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        conn.execute(
            audit_log.insert().values(
                model_name=name,
                version=version,
                action=action,
                actor=actor,
                timestamp=now_ms(),
                before=None if before is None else dict(before),
                after=None if after is None else dict(after),
            )
        )

    @staticmethod
    def _touch(conn: Connection, name: str) -> None:
        """Lock the model's row for this transaction (and bump updated_at), or NotFound."""
        result = conn.execute(
            registered_models.update()
            .where(registered_models.c.name == name)
            .values(updated_at=now_ms())
        )
        if not result.rowcount:
            raise _model_missing(name)

    @staticmethod
    def _version_row(conn: Connection, name: str, version: int) -> Any:
        row = conn.execute(
            sa.select(model_versions).where(
                model_versions.c.model_name == name, model_versions.c.version == version
            )
        ).first()
        if row is None:
            exists = conn.execute(
                sa.select(registered_models.c.name).where(registered_models.c.name == name)
            ).first()
            if exists is None:
                raise _model_missing(name)
            raise NotFound(
                f"model {name!r} has no version {version}; list them with: "
                f"modelward models versions {name}",
                details={"model": name, "version": version},
            )
        return row

    @staticmethod
    def _aliases_of(conn: Connection, name: str) -> dict[str, int]:
        rows = conn.execute(
            sa.select(model_aliases.c.alias, model_aliases.c.version)
            .where(model_aliases.c.model_name == name)
            .order_by(model_aliases.c.alias)
        )
        return {r.alias: r.version for r in rows}

    def _load_versions(self, conn: Connection, name: str, rows: list[Any]) -> list[ModelVersion]:
        if not rows:
            return []
        numbers = [r.version for r in rows]
        tags: dict[int, dict[str, str]] = {n: {} for n in numbers}
        for t in conn.execute(
            sa.select(model_version_tags).where(
                model_version_tags.c.model_name == name,
                model_version_tags.c.version.in_(numbers),
            )
        ):
            tags[t.version][t.key] = t.value
        aliases: dict[int, list[str]] = {n: [] for n in numbers}
        for alias, version in self._aliases_of(conn, name).items():
            if version in aliases:
                aliases[version].append(alias)
        return [
            ModelVersion(
                name=r.model_name,
                version=r.version,
                source=r.source,
                run_id=r.run_id,
                artifact_scope=r.artifact_scope,
                artifact_path=r.artifact_path,
                manifest_digest=r.manifest_digest,
                flavor=r.flavor,
                description=r.description,
                tags=tags[r.version],
                status=VersionStatus(r.status),
                created_by=r.created_by,
                created_at=r.created_at,
                updated_at=r.updated_at,
                aliases=tuple(aliases[r.version]),
            )
            for r in rows
        ]

    def _model(self, conn: Connection, name: str) -> RegisteredModel:
        row = conn.execute(
            sa.select(registered_models).where(registered_models.c.name == name)
        ).first()
        if row is None:
            raise _model_missing(name)
        tags = {
            t.key: t.value
            for t in conn.execute(sa.select(model_tags).where(model_tags.c.model_name == name))
        }
        return RegisteredModel(
            name=row.name,
            description=row.description,
            tags=tags,
            created_at=row.created_at,
            updated_at=row.updated_at,
            created_by=row.created_by,
            latest_version=row.latest_version,
            aliases=self._aliases_of(conn, name),
        )

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        *,
        actor: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        name = check_model_name(name)
        tag_map = _tags(tags)
        now = now_ms()
        with self._db.write() as conn:
            inserted = conn.execute(
                self._insert(registered_models)
                .values(
                    name=name,
                    description=description,
                    created_at=now,
                    updated_at=now,
                    created_by=actor,
                    latest_version=0,
                )
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(registered_models.c.name)
            ).first()
            if inserted is None:
                raise AlreadyExists(
                    f"registered model {name!r} already exists; register a new version of it "
                    "instead (modelward models register RUN_ID/PATH NAME)",
                    details={"model": name},
                )
            if tag_map:
                conn.execute(
                    model_tags.insert(),
                    [{"model_name": name, "key": k, "value": v} for k, v in tag_map.items()],
                )
            self._audit(
                conn,
                name,
                "create_model",
                actor,
                after={"description": description, "tags": tag_map},
            )
            return self._model(conn, name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self._db.read() as conn:
            return self._model(conn, name)

    def list_registered_models(self) -> list[RegisteredModel]:
        with self._db.read() as conn:
            names = [
                r.name
                for r in conn.execute(
                    sa.select(registered_models.c.name).order_by(registered_models.c.name)
                )
            ]
            return [self._model(conn, n) for n in names]

    def update_registered_model(self, name: str, *, actor: str, description: str) -> None:
        with self._db.write() as conn:
            before = self._model(conn, name).description
            self._touch(conn, name)
            conn.execute(
                registered_models.update()
                .where(registered_models.c.name == name)
                .values(description=description)
            )
            self._audit(
                conn,
                name,
                "update_model",
                actor,
                before={"description": before},
                after={"description": description},
            )

    def set_registered_model_tags(self, name: str, tags: Mapping[str, str], *, actor: str) -> None:
        tag_map = _tags(tags)
        with self._db.write() as conn:
            self._touch(conn, name)
            before = self._model(conn, name).tags
            for key, value in tag_map.items():
                stmt = self._insert(model_tags).values(model_name=name, key=key, value=value)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["model_name", "key"], set_={"value": value}
                    )
                )
            self._audit(
                conn,
                name,
                "set_model_tags",
                actor,
                before={k: before[k] for k in tag_map if k in before},
                after=tag_map,
            )

    def delete_registered_model_tag(self, name: str, key: str, *, actor: str) -> None:
        with self._db.write() as conn:
            self._touch(conn, name)
            row = conn.execute(
                sa.select(model_tags.c.value).where(
                    model_tags.c.model_name == name, model_tags.c.key == key
                )
            ).first()
            if row is None:
                raise NotFound(f"model {name!r} has no tag {key!r}")
            conn.execute(
                model_tags.delete().where(model_tags.c.model_name == name, model_tags.c.key == key)
            )
            self._audit(conn, name, "delete_model_tag", actor, before={key: row.value})

    def delete_registered_model(self, name: str, *, actor: str) -> None:
        with self._db.write() as conn:
            self._touch(conn, name)
            model = self._model(conn, name)
            versions = [
                r.version
                for r in conn.execute(
                    sa.select(model_versions.c.version).where(model_versions.c.model_name == name)
                )
            ]
            # Children first: SQLite only cascades when foreign keys are on, and being explicit
            # keeps both dialects identical.
            for table in (model_aliases, model_version_tags):
                conn.execute(table.delete().where(table.c.model_name == name))
            conn.execute(model_versions.delete().where(model_versions.c.model_name == name))
            conn.execute(model_tags.delete().where(model_tags.c.model_name == name))
            conn.execute(registered_models.delete().where(registered_models.c.name == name))
            self._audit(
                conn,
                name,
                "delete_model",
                actor,
                before={
                    "description": model.description,
                    "tags": dict(model.tags),
                    "aliases": dict(model.aliases),
                    "versions": sorted(versions),
                },
            )

    # -- versions -----------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        *,
        actor: str,
        source: str,
        run_id: str | None,
        artifact_scope: str,
        artifact_path: str,
        manifest_digest: str,
        flavor: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        create_model: bool = True,
    ) -> ModelVersion:
        name = check_model_name(name)
        tag_map = _tags(tags)
        now = now_ms()
        with self._db.write() as conn:
            if create_model:
                created = conn.execute(
                    self._insert(registered_models)
                    .values(
                        name=name,
                        description="",
                        created_at=now,
                        updated_at=now,
                        created_by=actor,
                        latest_version=0,
                    )
                    .on_conflict_do_nothing(index_elements=["name"])
                    .returning(registered_models.c.name)
                ).first()
                if created is not None:
                    self._audit(
                        conn, name, "create_model", actor, after={"description": "", "tags": {}}
                    )
            # The increment takes the row lock: concurrent registrations number one by one.
            result = conn.execute(
                registered_models.update()
                .where(registered_models.c.name == name)
                .values(latest_version=registered_models.c.latest_version + 1, updated_at=now)
            )
            if not result.rowcount:
                raise _model_missing(name)
            number = int(
                conn.execute(
                    sa.select(registered_models.c.latest_version).where(
                        registered_models.c.name == name
                    )
                ).scalar_one()
            )
            conn.execute(
                model_versions.insert().values(
                    model_name=name,
                    version=number,
                    source=source,
                    run_id=run_id,
                    artifact_scope=artifact_scope,
                    artifact_path=artifact_path,
                    manifest_digest=manifest_digest,
                    flavor=flavor,
                    description=description,
                    status=VersionStatus.READY.value,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                )
            )
            if tag_map:
                conn.execute(
                    model_version_tags.insert(),
                    [
                        {"model_name": name, "version": number, "key": k, "value": v}
                        for k, v in tag_map.items()
                    ],
                )
            self._audit(
                conn,
                name,
                "create_version",
                actor,
                version=number,
                after={
                    "source": source,
                    "run_id": run_id,
                    "manifest_digest": manifest_digest,
                    "flavor": flavor,
                    "status": VersionStatus.READY.value,
                },
            )
            return self._load_versions(conn, name, [self._version_row(conn, name, number)])[0]

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        version = _version_number(version)
        with self._db.read() as conn:
            return self._load_versions(conn, name, [self._version_row(conn, name, version)])[0]

    def list_model_versions(
        self, name: str, *, include_deleted: bool = False
    ) -> list[ModelVersion]:
        with self._db.read() as conn:
            self._model(conn, name)
            query = (
                sa.select(model_versions)
                .where(model_versions.c.model_name == name)
                .order_by(model_versions.c.version.desc())
            )
            if not include_deleted:
                query = query.where(model_versions.c.status != VersionStatus.DELETED.value)
            return self._load_versions(conn, name, list(conn.execute(query)))

    def update_model_version(
        self, name: str, version: int, *, actor: str, description: str
    ) -> None:
        version = _version_number(version)
        with self._db.write() as conn:
            self._touch(conn, name)
            row = self._version_row(conn, name, version)
            conn.execute(
                model_versions.update()
                .where(model_versions.c.model_name == name, model_versions.c.version == version)
                .values(description=description, updated_at=now_ms())
            )
            self._audit(
                conn,
                name,
                "update_version",
                actor,
                version=version,
                before={"description": row.description},
                after={"description": description},
            )

    def set_model_version_tags(
        self, name: str, version: int, tags: Mapping[str, str], *, actor: str
    ) -> None:
        version = _version_number(version)
        tag_map = _tags(tags)
        with self._db.write() as conn:
            self._touch(conn, name)
            self._version_row(conn, name, version)
            before = self._load_versions(conn, name, [self._version_row(conn, name, version)])[
                0
            ].tags
            for key, value in tag_map.items():
                stmt = self._insert(model_version_tags).values(
                    model_name=name, version=version, key=key, value=value
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["model_name", "version", "key"], set_={"value": value}
                    )
                )
            self._audit(
                conn,
                name,
                "set_version_tags",
                actor,
                version=version,
                before={k: before[k] for k in tag_map if k in before},
                after=tag_map,
            )

    def set_model_version_status(
        self, name: str, version: int, status: VersionStatus, *, actor: str, force: bool = False
    ) -> ModelVersion:
        version = _version_number(version)
        status = VersionStatus(status)
        with self._db.write() as conn:
            self._touch(conn, name)
            row = self._version_row(conn, name, version)
            current = VersionStatus(row.status)
            if current is status:
                return self._load_versions(conn, name, [row])[0]
            if current is VersionStatus.DELETED:
                raise Conflict(
                    f"version {version} of {name!r} is deleted; a deleted version cannot be "
                    "restored or archived (register the run's model again for a new version)",
                    details={"model": name, "version": version},
                )
            pointing = sorted(a for a, v in self._aliases_of(conn, name).items() if v == version)
            if pointing and status is not VersionStatus.READY:
                if not force:
                    raise Conflict(
                        f"version {version} of {name!r} is the target of alias(es) "
                        f"{', '.join(pointing)}; move them first (modelward models alias set) "
                        "or pass force=True to remove them with this change",
                        details={"model": name, "version": version, "aliases": pointing},
                    )
                for alias in pointing:
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
                        version=version,
                        before={"alias": alias, "version": version},
                    )
            conn.execute(
                model_versions.update()
                .where(model_versions.c.model_name == name, model_versions.c.version == version)
                .values(status=status.value, updated_at=now_ms())
            )
            action = {
                VersionStatus.READY: "restore_version",
                VersionStatus.ARCHIVED: "archive_version",
                VersionStatus.DELETED: "delete_version",
            }[status]
            self._audit(
                conn,
                name,
                action,
                actor,
                version=version,
                before={"status": current.value},
                after={"status": status.value},
            )
            return self._load_versions(conn, name, [self._version_row(conn, name, version)])[0]

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
        version = _version_number(version)
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
