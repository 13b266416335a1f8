"""What a server should be serving: read from a deployment record, or from one model reference.

A source is polled by the watcher; each poll costs one deployment read and one alias lookup
per followed alias. Sources never load models; they only say which versions are wanted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from modelward.entities.deployments import Batching, DeploymentStatus, Limits, ModelTarget
from modelward.errors import Conflict, NotFound

if TYPE_CHECKING:
    from modelward.deployments.service import DeploymentService

__all__ = ["DeploymentSource", "ModelSource", "Source", "Wanted"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Wanted:
    """The versions and settings a server should serve now.

    Attributes:
        champion: ``(model, version)`` receiving the main traffic.
        canary: ``(model, version)`` receiving ``canary_percent`` of it.
        canary_percent: 0-100.
        sticky_header: Header pinning callers to one side.
        shadow: ``(model, version)`` receiving a mirrored copy.
        batching: Micro-batching settings.
        limits: Request limits.
        revision: Deployment revision (0 without a deployment record).
        paused: The deployment is paused.
    """

    champion: tuple[str, int]
    canary: tuple[str, int] | None = None
    canary_percent: float = 0.0
    sticky_header: str | None = None
    shadow: tuple[str, int] | None = None
    batching: Batching = field(default_factory=Batching)
    limits: Limits = field(default_factory=Limits)
    revision: int = 0
    paused: bool = False

    def versions(self) -> list[tuple[str, int]]:
        """Every ``(model, version)`` needed."""
        return [v for v in (self.champion, self.canary, self.shadow) if v is not None]


class Source(Protocol):
    """Where a server learns what to serve."""

    name: str

    def wanted(self) -> Wanted:
        """Read the wanted state now (may raise when the store is unreachable)."""
        ...

    def served(self, wanted: Wanted) -> None:
        """Called once ``wanted`` is being served (best effort; never raises)."""
        ...


class ModelSource:
    """Serve one model reference (``models:/NAME@ALIAS``) without a deployment record.

    Args:
        target: The reference; an alias is followed as it moves.
        resolve: Resolves a reference to a version number.
        name: Name of the endpoint (``/v2/models/NAME``); default: the model name.
        batching: Micro-batching settings.
        limits: Request limits.
    """

    def __init__(
        self,
        target: ModelTarget,
        resolve: Callable[[ModelTarget], int],
        *,
        name: str | None = None,
        batching: Batching | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.target = target
        self.resolve = resolve
        self.name = name or target.model
        self.batching = batching or Batching()
        self.limits = limits or Limits()

    def wanted(self) -> Wanted:
        return Wanted(
            champion=(self.target.model, self.resolve(self.target)),
            batching=self.batching,
            limits=self.limits,
        )

    def served(self, wanted: Wanted) -> None:
        return None


class DeploymentSource:
    """Serve a deployment record, following its aliases.

    Args:
        service: The deployment service.
        name: Deployment name.
        batching: Overrides the record's batching (from ``modelward serve`` flags).
    """

    def __init__(
        self, service: DeploymentService, name: str, *, batching: Batching | None = None
    ) -> None:
        self.service = service
        self.name = name
        self.batching = batching
        self._revision = 0
        self._recorded: int | None = None

    def wanted(self) -> Wanted:
        d = self.service.get(self.name)
        self._revision = d.revision
        self._recorded = d.current_version
        resolve = self.service.resolve_target
        champion = d.target.version if d.target.alias is None and d.target.version else None
        champion = champion or resolve(d.target)
        canary = None if d.canary is None else (d.canary.model, resolve(d.canary))
        shadow = None if d.shadow is None else (d.shadow.model, resolve(d.shadow))
        return Wanted(
            champion=(d.target.model, champion),
            canary=canary,
            canary_percent=d.canary_percent,
            sticky_header=d.sticky_header,
            shadow=shadow,
            batching=self.batching or d.batching,
            limits=d.limits,
            revision=d.revision,
            paused=d.status is DeploymentStatus.PAUSED,
        )

    def served(self, wanted: Wanted) -> None:
        version = wanted.champion[1]
        if self._recorded == version:
            return
        try:
            self.service.record_version(self.name, version, expected_revision=self._revision)
            self._recorded = version
        except (Conflict, NotFound):
            pass  # another server recorded it, or the record changed: the next poll sees it
        except Exception as exc:
            log.warning("cannot record version %s of %s: %s", version, self.name, exc)
