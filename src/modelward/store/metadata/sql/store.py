"""The SQL metadata store: every aggregate's SQL implementation over one database."""

from __future__ import annotations

from modelward.store.metadata.base import MetadataStore
from modelward.store.metadata.sql.artifact_index import SqlArtifactIndexStore
from modelward.store.metadata.sql.datasets import SqlDatasetStore
from modelward.store.metadata.sql.deployments import SqlDeploymentStore
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.migrate import check_schema, current_revision
from modelward.store.metadata.sql.monitoring import SqlMonitorStore
from modelward.store.metadata.sql.monitoring_alerts import SqlAlertStore
from modelward.store.metadata.sql.registry import SqlRegistryStore
from modelward.store.metadata.sql.tracking import SqlTrackingStore

__all__ = ["SqlMetadataStore"]


class SqlMetadataStore(
    SqlTrackingStore,
    SqlArtifactIndexStore,
    SqlDatasetStore,
    SqlRegistryStore,
    SqlDeploymentStore,
    SqlMonitorStore,
    SqlAlertStore,
    MetadataStore,
):
    """Metadata in SQLite or PostgreSQL through SQLAlchemy Core.

    Args:
        uri: ``sqlite:///PATH`` or ``postgresql+psycopg://USER@HOST:PORT/DB``.
        busy_timeout: Seconds a SQLite writer waits for the lock.
        auto_create: Initialise an empty database (never upgrades an old one).
    """

    def __init__(self, uri: str, *, busy_timeout: float = 60.0, auto_create: bool = True) -> None:
        self.uri = uri
        self._db = Database(uri, busy_timeout=busy_timeout)
        try:
            check_schema(self._db, auto_create=auto_create)
        except BaseException:
            self._db.dispose()
            raise

    @property
    def database(self) -> Database:
        """The underlying engine wrapper (for migrations and tests)."""
        return self._db

    def close(self) -> None:
        self._db.dispose()

    def schema_revision(self) -> str | None:
        return current_revision(self._db)

    def __repr__(self) -> str:
        return f"SqlMetadataStore({self._db.engine.url.render_as_string(hide_password=True)!r})"
