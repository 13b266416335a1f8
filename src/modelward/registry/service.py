"""The registry service (``client.registry``): what the SDK, CLI and server call.

Registering copies nothing: a version points at the run's model folder and records the
manifest's digest, which every later load checks. Every change is written to the audit log
by the store, in the same transaction, with the actor this service was built with.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelward.entities.models import AuditEntry, ModelVersion, RegisteredModel, VersionStatus
from modelward.errors import IntegrityError, InvalidInput, NotFound
from modelward.models.uri import RegistryRef, RunRef, parse_registry_ref, parse_run_source
from modelward.registry.resolve import resolve_version
from modelward.store.metadata.registry import check_alias, check_model_name

if TYPE_CHECKING:
    from modelward.models.service import ModelService
    from modelward.store.metadata.base import MetadataStore

__all__ = ["RegistryService"]

log = logging.getLogger(__name__)


class RegistryService:
    """Registered models, versions, aliases, archive/delete, audit log and lineage.

    Args:
        store: The metadata store.
        models: The model service (reads manifests when registering).
        actor: Who is making changes (``Settings.user`` or the login name; passed in).
        datasets: The datasets service, if available, for lineage.
    """

    def __init__(
        self, store: MetadataStore, models: ModelService, *, actor: str, datasets: Any = None
    ) -> None:
        self.store = store
        self.models = models
        self.actor = actor
        self.datasets = datasets

    # -- models ------------------------------------------------------------------------------
    def create_model(
        self, name: str, *, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Create an empty registered model."""
        return self.store.create_registered_model(
            name, actor=self.actor, description=description, tags=tags
        )

    def get_model(self, name: str) -> RegisteredModel:
        """Return a registered model with its tags and aliases."""
        return self.store.get_registered_model(name)

    def list_models(self) -> list[RegisteredModel]:
        """Return every registered model, by name."""
        return self.store.list_registered_models()

    def update_model(self, name: str, *, description: str) -> RegisteredModel:
        """Change a model's description."""
        self.store.update_registered_model(name, actor=self.actor, description=description)
        return self.store.get_registered_model(name)

    def set_model_tags(self, name: str, tags: Mapping[str, Any]) -> None:
        """Set tags on a registered model."""
        self.store.set_registered_model_tags(
            name, {k: str(v) for k, v in tags.items()}, actor=self.actor
        )

    def delete_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a registered model."""
        self.store.delete_registered_model_tag(name, key, actor=self.actor)

    def delete_model(self, name: str) -> None:
        """Delete a registered model, its versions and aliases (run files stay; audit stays)."""
        self.store.delete_registered_model(name, actor=self.actor)

    # -- versions ----------------------------------------------------------------------------
    def register(
        self,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> ModelVersion:
        """Register a logged model as the next version of ``name`` (created if missing).

        ``source`` is ``runs:/RUN_ID/PATH`` or ``RUN_ID/PATH``.

        Args:
            source: Where the logged model is.
            name: Registered model name.
            description: Version description.
            tags: Version tags.
            alias: Also point this alias at the new version.

        Raises:
            NotFound: The run does not exist or has no model at that path.
        """
        name = check_model_name(name)
        if alias is not None:
            check_alias(alias)
        ref: RunRef = parse_run_source(source)
        manifest, digest = self.models.read_manifest(str(ref))
        version = self.store.create_model_version(
            name,
            actor=self.actor,
            source=str(ref),
            run_id=ref.run_id,
            artifact_scope=ref.scope,
            artifact_path=ref.path,
            manifest_digest=digest,
            flavor=manifest.flavor,
            description=description,
            tags={k: str(v) for k, v in (tags or {}).items()},
        )
        if alias is not None:
            self.set_alias(name, alias, version.version)
            version = self.store.get_model_version(name, version.version)
        return version

    def get_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one version by number (or ``"latest"``)."""
        if version == "latest":
            return resolve_version(self.store, RegistryRef(name))
        return self.store.get_model_version(name, _number(version))

    def versions(self, name: str, *, include_deleted: bool = False) -> list[ModelVersion]:
        """Return a model's versions, newest first."""
        return self.store.list_model_versions(name, include_deleted=include_deleted)

    def resolve(self, ref: str) -> ModelVersion:
        """The version named by ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME/latest`` or a URI."""
        return resolve_version(self.store, parse_registry_ref(ref))

    def update_version(self, name: str, version: int, *, description: str) -> ModelVersion:
        """Change a version's description."""
        self.store.update_model_version(
            name, _number(version), actor=self.actor, description=description
        )
        return self.store.get_model_version(name, _number(version))

    def set_version_tags(self, name: str, version: int, tags: Mapping[str, Any]) -> None:
        """Set tags on a version."""
        self.store.set_model_version_tags(
            name, _number(version), {k: str(v) for k, v in tags.items()}, actor=self.actor
        )

    def archive_version(self, name: str, version: int, *, force: bool = False) -> ModelVersion:
        """Archive a version (it stays loadable by number; aliases cannot point at it)."""
        return self.store.set_model_version_status(
            name, _number(version), VersionStatus.ARCHIVED, actor=self.actor, force=force
        )

    def restore_version(self, name: str, version: int) -> ModelVersion:
        """Bring an archived version back to READY."""
        return self.store.set_model_version_status(
            name, _number(version), VersionStatus.READY, actor=self.actor
        )

    def delete_version(self, name: str, version: int, *, force: bool = False) -> ModelVersion:
        """Delete a version: it can no longer be loaded; its number is never reused."""
        return self.store.set_model_version_status(
            name, _number(version), VersionStatus.DELETED, actor=self.actor, force=force
        )

    # -- aliases -----------------------------------------------------------------------------
    def set_alias(
        self, name: str, alias: str, version: int, *, expected_version: int | None = None
    ) -> int | None:
        """Point ``alias`` at ``version`` in one atomic step; return the previous version.

        With ``expected_version`` the move happens only if the alias still points there
        (compare-and-set), otherwise :class:`~modelward.errors.Conflict`.
        """
        return self.store.set_alias(
            name, alias, _number(version), actor=self.actor, expected_version=expected_version
        )

    def delete_alias(self, name: str, alias: str) -> int:
        """Remove an alias; return the version it pointed at."""
        return self.store.delete_alias(name, alias, actor=self.actor)

    # -- audit and lineage -------------------------------------------------------------------
    def audit(self, name: str | None = None, *, limit: int = 1000) -> list[AuditEntry]:
        """The audit log of one model (or all), oldest first."""
        if name is not None:
            entries = self.store.list_audit_entries(name, limit=limit)
            if not entries:
                self.store.get_registered_model(name)
            return entries
        return self.store.list_audit_entries(None, limit=limit)

    def lineage(self, ref: str) -> dict[str, Any]:
        """Walk version -> run -> params, metrics, code, environment -> dataset versions."""
        from modelward.registry.lineage import build_lineage

        version = self.resolve(ref)
        manifest = None
        try:
            manifest = self.models.read_manifest(version.uri)[0]
        except (NotFound, IntegrityError) as exc:
            log.warning("lineage of %s: cannot read the model manifest: %s", ref, exc)
        return build_lineage(
            self.store, version, datasets=self.datasets, ref=ref, manifest=manifest
        )


def _number(version: Any) -> int:
    if isinstance(version, str) and version.isdigit():
        return int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"a model version is a positive integer, not {version!r}")
    return version
