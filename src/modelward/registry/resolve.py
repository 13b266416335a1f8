"""Resolve ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` and ``models:/NAME/latest``."""

from __future__ import annotations

from modelward.entities.models import ModelVersion, VersionStatus
from modelward.errors import NotFound
from modelward.models.uri import RegistryRef
from modelward.store.metadata.registry import RegistryStore

__all__ = ["resolve_version"]


def resolve_version(store: RegistryStore, ref: RegistryRef) -> ModelVersion:
    """Return the version ``ref`` names; NotFound when it is missing or deleted.

    ``latest`` is the highest-numbered READY version. An alias left pointing at a deleted
    version (possible only through direct database edits; the registry removes aliases with
    the version) is reported as such, with how to fix it.
    """
    if ref.alias is not None:
        number = store.get_alias(ref.name, ref.alias)
        version = store.get_model_version(ref.name, number)
        if version.status is VersionStatus.DELETED:
            raise NotFound(
                f"alias {ref.alias!r} of {ref.name!r} points at version {number}, which is "
                f"deleted; move it with: modelward models alias set {ref.name} {ref.alias} "
                "VERSION",
                details={"model": ref.name, "alias": ref.alias, "version": number},
            )
        return version
    if ref.version is not None:
        version = store.get_model_version(ref.name, ref.version)
        if version.status is VersionStatus.DELETED:
            raise NotFound(
                f"version {ref.version} of {ref.name!r} is deleted; list the others with: "
                f"modelward models versions {ref.name}",
                details={"model": ref.name, "version": ref.version},
            )
        return version
    for version in store.list_model_versions(ref.name):
        if version.status is VersionStatus.READY:
            return version
    raise NotFound(
        f"model {ref.name!r} has no READY version; register one with: "
        f"modelward models register RUN_ID/NAME {ref.name}",
        details={"model": ref.name},
    )
