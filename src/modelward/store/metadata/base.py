"""The metadata store contract: one ABC composed of one contract per aggregate."""

from __future__ import annotations

import abc

from modelward.store.metadata.artifact_index import ArtifactIndexStore
from modelward.store.metadata.datasets import DatasetStore
from modelward.store.metadata.deployments import DeploymentStore
from modelward.store.metadata.monitoring import MonitoringStore
from modelward.store.metadata.registry import RegistryStore
from modelward.store.metadata.tracking import TrackingStore

__all__ = ["MetadataStore"]


class MetadataStore(
    TrackingStore,
    ArtifactIndexStore,
    DatasetStore,
    RegistryStore,
    DeploymentStore,
    MonitoringStore,
    abc.ABC,
):
    """Everything modelward records except artifact bytes.

    Implementations are chosen by URI scheme (see :func:`modelward.store.metadata.open_store`).
    Each aggregate's contract lives in its own module; this class only composes them.
    """

    uri: str

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The store cannot be used afterwards."""

    @abc.abstractmethod
    def schema_revision(self) -> str | None:
        """Return the schema revision of the database (``None`` if not initialised)."""
