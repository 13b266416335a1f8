"""The :class:`Client`: one metadata store, one artifact store, and the services over them."""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

from modelward.config import Settings

if TYPE_CHECKING:
    from modelward.artifacts import ArtifactService
    from modelward.datasets.service import DatasetService
    from modelward.deployments import DeploymentService
    from modelward.models.service import ModelService
    from modelward.monitoring.service import MonitoringService
    from modelward.registry.service import RegistryService
    from modelward.store.artifacts.base import ArtifactStore
    from modelward.store.metadata.base import MetadataStore
    from modelward.tracking.service import TrackingService
    from modelward.training.service import TrainingService

__all__ = ["Client"]


class Client:
    """Entry point to one modelward installation (embedded or PostgreSQL + S3).

    Services are created on first use, so a client that only tracks metrics never imports
    the registry or serving code.

    Args:
        uri: Metadata store URI; defaults to ``settings.metadata_uri()``.
        artifacts: Artifact location; defaults to ``settings.artifact_uri()``.
        settings: Options; defaults to :meth:`Settings.defaults` (the environment is read only
            by entry points such as the CLI and :func:`modelward.connect`).

    Example:
        >>> client = Client("sqlite:////tmp/mw.db", artifacts="/tmp/mw-artifacts")
        >>> run = client.tracking.start_run("exp")
    """

    def __init__(
        self,
        uri: str | None = None,
        *,
        artifacts: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        base = settings if settings is not None else Settings.defaults()
        self.settings = base.with_overrides(uri=uri, artifacts=artifacts)
        self._lock = threading.RLock()
        self._closed = False

    @functools.cached_property
    def store(self) -> MetadataStore:
        """The metadata store."""
        from modelward.store.metadata import open_store

        return open_store(
            self.settings.metadata_uri(), busy_timeout=self.settings.sqlite_busy_timeout
        )

    @functools.cached_property
    def blobs(self) -> ArtifactStore:
        """The artifact (blob) store."""
        from modelward.store.artifacts import open_artifact_store

        return open_artifact_store(
            self.settings.artifact_uri(), s3_endpoint_url=self.settings.s3_endpoint_url
        )

    @functools.cached_property
    def artifacts(self) -> ArtifactService:
        """Logical artifact paths (per run, dataset, model) over the blob store."""
        from modelward.artifacts import ArtifactService

        return ArtifactService(self.store, self.blobs)

    @functools.cached_property
    def datasets(self) -> DatasetService:
        """Dataset versions: ingest, validate, prepare, split, query, diff and lineage."""
        from modelward.datasets.service import DatasetService

        return DatasetService(self.store, self.blobs)

    @functools.cached_property
    def tracking(self) -> TrackingService:
        """Experiments, runs, params, tags and metrics."""
        from modelward.tracking.service import TrackingService

        return TrackingService(self.store, self.settings)

    @property
    def actor(self) -> str:
        """Who this client acts as in audit and history entries (``settings.user`` or login)."""
        if self.settings.user:
            return self.settings.user
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    @functools.cached_property
    def models(self) -> ModelService:
        """Log models to runs, load them (verified), export them."""
        from modelward.models.service import ModelService

        return ModelService(
            self.store, self.artifacts, self.settings, dataset_inputs=self._dataset_inputs
        )

    @functools.cached_property
    def registry(self) -> RegistryService:
        """Registered models, versions, aliases, audit log and lineage."""
        from modelward.registry.service import RegistryService

        return RegistryService(
            self.store, self.models, actor=self.actor, datasets=self._datasets_service()
        )

    @functools.cached_property
    def training(self) -> TrainingService:
        """Cross-validated model selection, warm starts and resumes (``modelward train``)."""
        from modelward.training.service import TrainingService

        return TrainingService(
            self.tracking,
            self.artifacts,
            datasets=self._datasets_service(),
            models=self.models,
            registry=self.registry,
        )

    def _datasets_service(self) -> object | None:
        # The datasets service arrives as `client.datasets`; lineage degrades without it.
        try:
            return getattr(self, "datasets", None)
        except ImportError:
            return None

    def _dataset_inputs(self, run_id: str) -> list[dict[str, object]]:
        service = self._datasets_service()
        if service is None or not hasattr(service, "run_inputs"):
            return []
        from modelward.registry.lineage import dataset_inputs

        return dataset_inputs(service, run_id)

    @functools.cached_property
    def deployments(self) -> DeploymentService:
        """Deployments (serving endpoints), their history, prediction logs and feedback."""
        from modelward.deployments import DeploymentService

        return DeploymentService(
            self.store, self._resolve_version, actor=self.actor, artifacts=self.artifacts
        )

    def _resolve_version(self, target: object) -> int:
        return int(self.registry.resolve(str(target)).version)

    @functools.cached_property
    def monitoring(self) -> MonitoringService:
        """Monitors: drift, data quality, performance, anomalies, alerts and reports.

        Notifiers that read secrets from the environment (``url_env``) need a service built
        with them: ``MonitoringService(client, secrets=os.environ)`` (the CLI does this).
        """
        from modelward.monitoring.service import MonitoringService

        return MonitoringService(self)

    def close(self) -> None:
        """Flush buffered metrics and release connections."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if "tracking" in self.__dict__:
                self.tracking.close()
            if "monitoring" in self.__dict__:
                # Queued alert notifications get a bounded chance to go out first.
                self.monitoring.close()
            if "store" in self.__dict__:
                self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Client(uri={self.settings.metadata_uri()!r}, "
            f"artifacts={self.settings.artifact_uri()!r})"
        )
