"""Deployment entities: which registered model versions an endpoint serves, and how.

A deployment follows a *reference* (``iris@champion`` or ``iris/3``) and records the version
that reference resolved to last (``current_version``) plus the versions it served before
(``previous_versions``, newest last) so ``modelward deploy rollback`` can go back.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from modelward.errors import InvalidInput

__all__ = [
    "Batching",
    "Deployment",
    "DeploymentChange",
    "DeploymentStatus",
    "Feedback",
    "Limits",
    "ModelTarget",
    "check_deployment_name",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_TARGET = re.compile(
    r"^(?P<model>[^@/:\\]+)(?:@(?P<alias>[A-Za-z][A-Za-z0-9_-]*)|/(?P<version>\d+))?$"
)


def check_deployment_name(name: object) -> str:
    """Return ``name`` if it can name a deployment (it appears in URLs), else InvalidInput."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(
            f"deployment name {name!r} is not valid; use up to 128 letters, digits, '.', '-' "
            "or '_', starting with a letter or digit (it appears in URLs: /v2/models/NAME)",
            details={"name": str(name)},
        )
    return name


class DeploymentStatus(enum.StrEnum):
    """Whether servers should serve a deployment."""

    ACTIVE = "active"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class ModelTarget:
    """A registered model reference: by alias (followed as it moves) or by pinned version.

    Attributes:
        model: Registered model name.
        alias: Alias to follow (``champion``); ``None`` when pinned.
        version: Pinned version number; ``None`` when following an alias (or ``latest``).
    """

    model: str
    alias: str | None = None
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> ModelTarget:
        """Parse ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME`` (latest) or ``models:/…``."""
        body = (
            text[len("models:/") :]
            if isinstance(text, str) and text.startswith("models:/")
            else text
        )
        match = _TARGET.match(body) if isinstance(body, str) else None
        if match is None:
            raise InvalidInput(
                f"{text!r} is not a model reference; use NAME@ALIAS (follows the alias), "
                "NAME/VERSION (pinned) or NAME (the latest version)",
                details={"ref": str(text)},
            )
        version = match.group("version")
        if version is not None and int(version) < 1:
            raise InvalidInput(f"{text!r}: a version number starts at 1")
        return cls(
            match.group("model"), match.group("alias"), None if version is None else int(version)
        )

    @property
    def uri(self) -> str:
        """The ``models:/`` URI of this reference."""
        return f"models:/{self}"

    def pinned(self, version: int) -> ModelTarget:
        """The same model pinned to ``version``."""
        return ModelTarget(self.model, None, version)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {"model": self.model, "alias": self.alias, "version": self.version}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelTarget:
        """Build from :meth:`to_dict` output."""
        version = data.get("version")
        return cls(str(data["model"]), data.get("alias"), None if version is None else int(version))

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{self.model}@{self.alias}"
        if self.version is not None:
            return f"{self.model}/{self.version}"
        return f"{self.model}/latest"


@dataclass(frozen=True, slots=True)
class Batching:
    """Micro-batching settings.

    Attributes:
        max_batch_size: Most rows predicted in one model call (a bigger single request is
            predicted alone, in chunks of this size).
        max_wait_ms: Longest a queued request waits for requests already being received to
            join its batch. Nothing waits when no other request is in flight.
    """

    max_batch_size: int = 64
    max_wait_ms: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_batch_size, int) or self.max_batch_size < 1:
            raise InvalidInput(f"max_batch_size must be at least 1, not {self.max_batch_size!r}")
        if not (0 <= float(self.max_wait_ms) <= 10_000):
            raise InvalidInput(f"max_wait_ms must be between 0 and 10000, not {self.max_wait_ms!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {"max_batch_size": self.max_batch_size, "max_wait_ms": self.max_wait_ms}


@dataclass(frozen=True, slots=True)
class Limits:
    """Request limits.

    Attributes:
        max_body_bytes: Largest request body accepted (413 beyond it, without reading it all).
        max_rows: Most rows in one request (413 beyond it).
        allow_nan: Accept null, NaN and infinity in float inputs (refused with 422 by default,
            since most models cannot handle them).
    """

    max_body_bytes: int = 16 * 1024 * 1024
    max_rows: int = 100_000
    allow_nan: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.max_body_bytes, int) or self.max_body_bytes < 1024:
            raise InvalidInput(f"max_body_bytes must be at least 1024, not {self.max_body_bytes!r}")
        if not isinstance(self.max_rows, int) or self.max_rows < 1:
            raise InvalidInput(f"max_rows must be at least 1, not {self.max_rows!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "max_body_bytes": self.max_body_bytes,
            "max_rows": self.max_rows,
            "allow_nan": self.allow_nan,
        }


@dataclass(frozen=True, slots=True)
class Deployment:
    """A named endpoint and what it serves.

    Attributes:
        name: Unique name (``/v2/models/NAME``).
        target: The champion reference (followed when it is an alias).
        current_version: The version ``target`` resolved to last (``None`` before resolution).
        previous_versions: Versions served before, oldest first (for rollback).
        canary: A second reference receiving ``canary_percent`` of the traffic.
        canary_percent: Share of requests for the canary, 0-100.
        sticky_header: Request header whose value pins a caller to champion or canary.
        shadow: A reference receiving a mirrored copy of every request (replies discarded).
        batching: Micro-batching settings.
        limits: Request limits.
        status: ``active`` or ``paused``.
        revision: Increases at every change (servers poll it).
        created_at: Creation time, ms since the epoch.
        updated_at: Last change, ms since the epoch.
        description: Free text.
    """

    name: str
    target: ModelTarget
    current_version: int | None = None
    previous_versions: tuple[int, ...] = ()
    canary: ModelTarget | None = None
    canary_percent: float = 0.0
    sticky_header: str | None = None
    shadow: ModelTarget | None = None
    batching: Batching = field(default_factory=Batching)
    limits: Limits = field(default_factory=Limits)
    status: DeploymentStatus = DeploymentStatus.ACTIVE
    revision: int = 1
    created_at: int = 0
    updated_at: int = 0
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary (the form stored in history entries)."""
        return {
            "name": self.name,
            "target": self.target.to_dict(),
            "current_version": self.current_version,
            "previous_versions": list(self.previous_versions),
            "canary": None if self.canary is None else self.canary.to_dict(),
            "canary_percent": self.canary_percent,
            "sticky_header": self.sticky_header,
            "shadow": None if self.shadow is None else self.shadow.to_dict(),
            "batching": self.batching.to_dict(),
            "limits": self.limits.to_dict(),
            "status": self.status.value,
            "revision": self.revision,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class DeploymentChange:
    """One entry of a deployment's history.

    Attributes:
        id: Increasing identifier.
        deployment: Deployment name.
        revision: The deployment's revision after the change (0 for a deletion).
        action: ``create``, ``update``, ``resolve`` (an alias moved), ``rollback``, ``delete``.
        actor: Who made the change.
        time: When, ms since the epoch.
        before: The deployment before (``None`` for a creation).
        after: The deployment after (``None`` for a deletion).
    """

    id: int
    deployment: str
    revision: int
    action: str
    actor: str
    time: int
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Feedback:
    """A ground-truth label attached to a logged prediction.

    Attributes:
        deployment: Deployment name.
        request_id: The ``x-request-id`` of the prediction.
        label: The true value (any JSON value; one per row for multi-row requests).
        time: When the label arrived, ms since the epoch.
    """

    deployment: str
    request_id: str
    label: Any
    time: int
