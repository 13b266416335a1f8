"""SQL implementation of :class:`~modelward.store.metadata.artifact_index.ArtifactIndexStore`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from modelward.entities import ArtifactEntry
from modelward.errors import NotFound
from modelward.store.metadata.artifact_index import ArtifactIndexStore
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.tables.tracking import artifact_entries

__all__ = ["SqlArtifactIndexStore"]


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _entry(row: Any) -> ArtifactEntry:
    return ArtifactEntry(row.scope, row.path, row.digest, row.size, row.created_at)


class SqlArtifactIndexStore(ArtifactIndexStore):
    """Logical artifact paths in SQL. Mixed into the full SQL metadata store."""

    _db: Database

    def _upsert_stmt(self) -> Any:
        stmt = self._db.insert(artifact_entries)
        return stmt.on_conflict_do_update(
            index_elements=["scope", "path"],
            set_={
                "digest": stmt.excluded.digest,
                "size": stmt.excluded.size,
                "created_at": stmt.excluded.created_at,
            },
        )

    def put_artifact_entries(self, entries: Sequence[ArtifactEntry]) -> None:
        if not entries:
            return
        with self._db.write() as conn:
            conn.execute(
                self._upsert_stmt(),
                [
                    {
                        "scope": e.scope,
                        "path": e.path,
                        "digest": e.digest,
                        "size": e.size,
                        "created_at": e.created_at,
                    }
                    for e in entries
                ],
            )

    def list_artifact_entries(self, scope: str, prefix: str = "") -> list[ArtifactEntry]:
        query = sa.select(artifact_entries).where(artifact_entries.c.scope == scope)
        if prefix:
            query = query.where(artifact_entries.c.path.like(_like_prefix(prefix), escape="\\"))
        with self._db.read() as conn:
            return [_entry(r) for r in conn.execute(query.order_by(artifact_entries.c.path))]

    def get_artifact_entry(self, scope: str, path: str) -> ArtifactEntry:
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(artifact_entries).where(
                    artifact_entries.c.scope == scope, artifact_entries.c.path == path
                )
            ).first()
        if row is None:
            raise NotFound(
                f"no artifact {path!r} in {scope}", details={"scope": scope, "path": path}
            )
        return _entry(row)

    def delete_artifact_entries(self, scope: str, prefix: str = "") -> int:
        stmt = artifact_entries.delete().where(artifact_entries.c.scope == scope)
        if prefix:
            stmt = stmt.where(artifact_entries.c.path.like(_like_prefix(prefix), escape="\\"))
        with self._db.write() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    def delete_artifact_entry(self, scope: str, path: str) -> bool:
        """Remove the entry at exactly ``path``; return whether there was one."""
        stmt = artifact_entries.delete().where(
            artifact_entries.c.scope == scope, artifact_entries.c.path == path
        )
        with self._db.write() as conn:
            return bool(conn.execute(stmt).rowcount)

    def blob_referenced(self, digest: str) -> bool:
        with self._db.read() as conn:
            return (
                conn.execute(
                    sa.select(sa.literal(1)).where(artifact_entries.c.digest == digest).limit(1)
                ).first()
                is not None
            )
