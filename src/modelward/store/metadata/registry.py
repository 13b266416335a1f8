"""The registry part of the metadata store contract: models, versions, aliases, audit log.

Every mutating method appends its audit entry in the same transaction as the change, so the
audit log can never disagree with the registry. ``actor`` is who made the change (the caller
passes it in; the store never guesses).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

from modelward.entities.models import AuditEntry, ModelVersion, RegisteredModel, VersionStatus

__all__ = ["RegistryStore", "check_alias", "check_model_name"]


class RegistryStore(abc.ABC):
    """Registered models, their numbered versions, aliases and the audit log."""

    # -- registered models -------------------------------------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        *,
        actor: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        """Create a model; :class:`~modelward.errors.AlreadyExists` if the name is taken."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a model with its tags and aliases; :class:`~modelward.errors.NotFound`."""

    @abc.abstractmethod
    def list_registered_models(self) -> list[RegisteredModel]:
        """Return every registered model, by name."""

    @abc.abstractmethod
    def update_registered_model(self, name: str, *, actor: str, description: str) -> None:
        """Change a model's description."""

    @abc.abstractmethod
    def set_registered_model_tags(self, name: str, tags: Mapping[str, str], *, actor: str) -> None:
        """Set (or overwrite) tags on a model."""

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str, *, actor: str) -> None:
        """Remove a model tag; :class:`~modelward.errors.NotFound` if it is not set."""

    @abc.abstractmethod
    def delete_registered_model(self, name: str, *, actor: str) -> None:
        """Remove a model with its versions, tags and aliases (the audit log is kept)."""

    # -- versions -----------------------------------------------------------------------------
    @abc.abstractmethod
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
        """Add the next version of ``name`` (numbered race-safely; created if ``create_model``)."""

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """Return one version (including a DELETED one); :class:`~modelward.errors.NotFound`."""

    @abc.abstractmethod
    def list_model_versions(
        self, name: str, *, include_deleted: bool = False
    ) -> list[ModelVersion]:
        """Return a model's versions, newest first."""

    @abc.abstractmethod
    def update_model_version(
        self, name: str, version: int, *, actor: str, description: str
    ) -> None:
        """Change a version's description."""

    @abc.abstractmethod
    def set_model_version_tags(
        self, name: str, version: int, tags: Mapping[str, str], *, actor: str
    ) -> None:
        """Set (or overwrite) tags on a version."""

    @abc.abstractmethod
    def set_model_version_status(
        self, name: str, version: int, status: VersionStatus, *, actor: str, force: bool = False
    ) -> ModelVersion:
        """Archive, restore or delete a version.

        A version that aliases point at can only be archived or deleted with ``force``, which
        removes those aliases in the same transaction (each with its audit entry); otherwise
        :class:`~modelward.errors.Conflict` names the aliases.
        """

    # -- aliases ------------------------------------------------------------------------------
    @abc.abstractmethod
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
        """Point ``alias`` at ``version`` atomically; return the version it pointed at before.

        With ``expected_version`` (or ``expect_absent``) this is a compare-and-set: if the alias
        points elsewhere, :class:`~modelward.errors.Conflict` and nothing changes.
        """

    @abc.abstractmethod
    def delete_alias(self, name: str, alias: str, *, actor: str) -> int:
        """Remove an alias; return the version it pointed at."""

    @abc.abstractmethod
    def get_alias(self, name: str, alias: str) -> int:
        """Return the version an alias points at; :class:`~modelward.errors.NotFound`."""

    # -- audit --------------------------------------------------------------------------------
    @abc.abstractmethod
    def list_audit_entries(
        self, name: str | None = None, *, limit: int = 1000, after_id: int = 0
    ) -> list[AuditEntry]:
        """Return audit entries (of one model, or all), oldest first, after ``after_id``."""


_NAME_FORBIDDEN = set("/@:\\")


def check_model_name(name: object) -> str:
    r"""Return ``name`` if it can name a registered model, else raise InvalidInput.

    Model names appear in URIs (``models:/NAME@ALIAS``), so ``/``, ``@``, ``:`` and ``\\``
    are refused.
    """
    from modelward.validation import check_key

    text = check_key(name, "model name", max_len=256)
    bad = sorted(_NAME_FORBIDDEN & set(text))
    if bad:
        from modelward.errors import InvalidInput

        raise InvalidInput(
            f"model name {text!r} contains {' '.join(bad)}; these separate parts of a model "
            "URI (models:/NAME@ALIAS). Use letters, digits, '-', '_' or '.'",
            details={"name": text},
        )
    return text


def check_alias(alias: object) -> str:
    """Return ``alias`` if it is a usable alias name (``champion``, ``challenger``, …).

    An alias starts with a letter and has letters, digits, ``-`` or ``_`` (at most 128);
    ``latest`` is reserved for the newest version.
    """
    import re

    from modelward.errors import InvalidInput

    if not isinstance(alias, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,127}", alias):
        raise InvalidInput(
            f"alias {alias!r} is not valid; an alias starts with a letter and has up to 128 "
            "letters, digits, '-' or '_' (e.g. champion, challenger)",
            details={"alias": str(alias)},
        )
    if alias.lower() == "latest":
        raise InvalidInput(
            "'latest' is reserved: models:/NAME/latest always means the newest ready version; "
            "choose another alias name"
        )
    return alias
