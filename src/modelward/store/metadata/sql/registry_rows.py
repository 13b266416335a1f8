"""Row helpers shared by the SQL registry mixins: locking, audit entries, loading entities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelward.entities import now_ms
from modelward.entities.models import ModelVersion, RegisteredModel, VersionStatus
from modelward.errors import InvalidInput, NotFound
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

__all__ = ["RegistryRows", "clean_tags", "model_missing", "version_number"]


def clean_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """Validate tag keys and values (InvalidInput on a bad one)."""
    return {check_key(k, "tag key"): check_value(v, f"tag {k!r}") for k, v in (tags or {}).items()}


def version_number(version: Any) -> int:
    """Return ``version`` if it is a positive integer, else InvalidInput."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"a model version is a positive integer, not {version!r}")
    return version


def model_missing(name: str) -> NotFound:
    """The NotFound raised for an unknown registered model."""
    return NotFound(
        f"registered model {name!r} does not exist; list them with: modelward models list",
        details={"model": name},
    )


class RegistryRows:
    """Helpers over one registry transaction's connection (no public methods)."""

    _db: Database

    # -- helpers ---------------------------------------------------------------------------
    def _insert(self, table: sa.Table) -> Any:
        return self._db.insert(table)

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
            raise model_missing(name)

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
                raise model_missing(name)
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
            raise model_missing(name)
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
