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

import sqlalchemy as sa

from modelward.entities import now_ms
from modelward.entities.models import ModelVersion, RegisteredModel, VersionStatus
from modelward.errors import AlreadyExists, Conflict, NotFound
from modelward.store.metadata.registry import RegistryStore, check_model_name
from modelward.store.metadata.sql.registry_aliases import SqlAliasStore
from modelward.store.metadata.sql.registry_rows import clean_tags, model_missing, version_number
from modelward.store.metadata.sql.tables.registry import (
    model_aliases,
    model_tags,
    model_version_tags,
    model_versions,
    registered_models,
)

__all__ = ["SqlRegistryStore"]


class SqlRegistryStore(SqlAliasStore, RegistryStore):
    """The model registry in SQL. Mixed into the full SQL metadata store."""

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
        tag_map = clean_tags(tags)
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
        tag_map = clean_tags(tags)
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
        tag_map = clean_tags(tags)
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
                raise model_missing(name)
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
        version = version_number(version)
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
        version = version_number(version)
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
        version = version_number(version)
        tag_map = clean_tags(tags)
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
        version = version_number(version)
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
