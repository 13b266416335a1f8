"""The deployment service (``client.deployments``): what the CLI, servers and monitoring call.

A deployment names the registered model reference it serves (``iris@champion`` follows the
alias, ``iris/3`` is pinned), an optional canary and shadow, batching settings and request
limits. Every change is recorded with its actor in the deployment's history. When the alias
a deployment follows moves, the serving process records the new version here
(:meth:`DeploymentService.record_version`), which keeps the versions served before for
:meth:`DeploymentService.rollback`.
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelward.entities import now_ms
from modelward.entities.deployments import (
    Batching,
    Deployment,
    DeploymentChange,
    DeploymentStatus,
    Feedback,
    Limits,
    ModelTarget,
    check_deployment_name,
)
from modelward.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

    from modelward.store.metadata.base import MetadataStore

__all__ = ["DeploymentService", "VersionResolver"]

log = logging.getLogger(__name__)

#: ``target -> version number`` (NotFound if the reference names nothing).
VersionResolver = Callable[[ModelTarget], int]

#: Versions remembered for rollback.
MAX_PREVIOUS_VERSIONS = 20

_UNSET: Any = object()


def _target(value: ModelTarget | str | None) -> ModelTarget | None:
    if value is None or isinstance(value, ModelTarget):
        return value
    return ModelTarget.parse(value)


def _check_percent(value: float) -> float:
    try:
        percent = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"the canary percentage must be a number, not {value!r}") from None
    if not 0 <= percent <= 100:
        raise InvalidInput(f"the canary percentage must be between 0 and 100, not {percent:g}")
    return percent


def _check_header(value: str | None) -> str | None:
    if value is None:
        return None
    if not value or not all(c.isalnum() or c in "-_" for c in value):
        raise InvalidInput(
            f"sticky header {value!r} is not a header name; use letters, digits and '-' "
            "(e.g. x-user-id)"
        )
    return value.lower()


class DeploymentService:
    """Create, change, roll back and delete deployments; read their prediction logs.

    Args:
        store: The metadata store.
        resolve: Resolves a model reference to a version number (the registry).
        actor: Who is making changes (recorded in the history).
        artifacts: The artifact service (prediction logs live there).
    """

    def __init__(
        self,
        store: MetadataStore,
        resolve: VersionResolver,
        *,
        actor: str,
        artifacts: Any = None,
    ) -> None:
        self.store = store
        self.resolve = resolve
        self.actor = actor
        self.artifacts = artifacts

    # -- records ---------------------------------------------------------------------------
    def create(
        self,
        name: str,
        model: ModelTarget | str,
        *,
        canary: ModelTarget | str | None = None,
        canary_percent: float = 10.0,
        sticky_header: str | None = None,
        shadow: ModelTarget | str | None = None,
        batching: Batching | None = None,
        limits: Limits | None = None,
        description: str = "",
    ) -> Deployment:
        """Create a deployment serving ``model`` (``NAME@ALIAS``, ``NAME/VERSION`` or ``NAME``).

        Every reference is resolved now, so a typo fails here rather than in the server.

        Raises:
            AlreadyExists: The name is taken.
            NotFound: A reference names no registered version.
        """
        target = _target(model)
        assert target is not None
        canary_target = _target(canary)
        deployment = Deployment(
            name=check_deployment_name(name),
            target=target,
            current_version=self.resolve(target),
            canary=canary_target,
            canary_percent=_check_percent(canary_percent) if canary_target is not None else 0.0,
            sticky_header=_check_header(sticky_header),
            shadow=_target(shadow),
            batching=batching or Batching(),
            limits=limits or Limits(),
            description=description,
        )
        self._check_refs(deployment)
        return self.store.create_deployment(deployment, actor=self.actor)

    def get(self, name: str) -> Deployment:
        """Return a deployment; :class:`~modelward.errors.NotFound` if absent."""
        return self.store.get_deployment(name)

    def list(self) -> list[Deployment]:
        """Return every deployment, by name."""
        return self.store.list_deployments()

    def update(
        self,
        name: str,
        *,
        model: ModelTarget | str | None = None,
        canary: ModelTarget | str | None = _UNSET,
        canary_percent: float | None = None,
        sticky_header: str | None = _UNSET,
        shadow: ModelTarget | str | None = _UNSET,
        batching: Batching | None = None,
        limits: Limits | None = None,
        status: DeploymentStatus | str | None = None,
        description: str | None = None,
    ) -> Deployment:
        """Change a deployment; arguments left out keep their value.

        ``None`` removes a canary, sticky header or shadow.
        A new champion reference is resolved now; its version becomes ``current_version`` and
        the one served before is remembered for rollback.
        """
        current = self.store.get_deployment(name)
        changes: dict[str, Any] = {}
        if model is not None:
            target = _target(model)
            assert target is not None
            changes["target"] = target
            version = self.resolve(target)
            changes.update(self._version_change(current, version))
        if canary is not _UNSET:
            changes["canary"] = _target(canary)
            if changes["canary"] is None:
                changes["canary_percent"] = 0.0
            elif canary_percent is None and current.canary is None:
                changes["canary_percent"] = 10.0
        if canary_percent is not None:
            changes["canary_percent"] = _check_percent(canary_percent)
        if sticky_header is not _UNSET:
            changes["sticky_header"] = _check_header(sticky_header)
        if shadow is not _UNSET:
            changes["shadow"] = _target(shadow)
        if batching is not None:
            changes["batching"] = batching
        if limits is not None:
            changes["limits"] = limits
        if status is not None:
            changes["status"] = DeploymentStatus(status)
        if description is not None:
            changes["description"] = description
        if not changes:
            return current
        updated = dataclasses.replace(current, **changes)
        if updated.canary is None and updated.canary_percent:
            raise InvalidInput("a canary percentage needs a canary model (--canary MODEL@ALIAS)")
        self._check_refs(updated)
        return self.store.update_deployment(
            updated, actor=self.actor, expected_revision=current.revision
        )

    def delete(self, name: str) -> None:
        """Delete a deployment (servers stop following it; history and feedback stay)."""
        self.store.delete_deployment(name, actor=self.actor)

    def history(self, name: str, *, limit: int = 1000) -> builtins.list[DeploymentChange]:
        """The changes of a deployment, oldest first."""
        entries = self.store.list_deployment_history(name, limit=limit)
        if not entries:
            self.store.get_deployment(name)
        return entries

    def rollback(self, name: str) -> Deployment:
        """Serve the version served before the current one, pinned.

        The deployment stops following its alias (so the alias moving again does not undo the
        rollback); ``modelward deploy update NAME --model MODEL@ALIAS`` follows it again.

        Raises:
            Conflict: No earlier version is recorded.
        """
        current = self.store.get_deployment(name)
        if not current.previous_versions:
            raise Conflict(
                f"deployment {name!r} has no earlier version to roll back to; pin one with: "
                f"modelward deploy update {name} --model {current.target.model}/VERSION",
                details={"deployment": name},
            )
        *rest, previous = current.previous_versions
        updated = dataclasses.replace(
            current,
            target=current.target.pinned(previous),
            current_version=previous,
            previous_versions=tuple(rest),
        )
        return self.store.update_deployment(
            updated, actor=self.actor, action="rollback", expected_revision=current.revision
        )

    def record_version(self, name: str, version: int, *, expected_revision: int) -> Deployment:
        """Record that the deployment's alias now resolves to ``version`` (called by servers).

        A compare-and-set on ``expected_revision``: when several server processes notice the
        same move, one records it and the others get :class:`~modelward.errors.Conflict`.
        """
        current = self.store.get_deployment(name)
        if current.current_version == version:
            return current
        updated = dataclasses.replace(current, **self._version_change(current, version))
        return self.store.update_deployment(
            updated, actor=self.actor, action="resolve", expected_revision=expected_revision
        )

    def resolve_target(self, target: ModelTarget) -> int:
        """The version a reference resolves to now."""
        return self.resolve(target)

    @staticmethod
    def _version_change(current: Deployment, version: int) -> dict[str, Any]:
        if current.current_version is None or current.current_version == version:
            return {"current_version": version}
        previous = [*current.previous_versions, current.current_version]
        return {
            "current_version": version,
            "previous_versions": tuple(previous[-MAX_PREVIOUS_VERSIONS:]),
        }

    def _check_refs(self, deployment: Deployment) -> None:
        if deployment.canary is not None:
            self.resolve(deployment.canary)
        if deployment.shadow is not None:
            self.resolve(deployment.shadow)

    # -- feedback and the prediction log ---------------------------------------------------
    def add_feedback(self, name: str, labels: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> int:
        """Attach ground-truth labels to logged predictions by request id; return the count.

        A later label for the same request replaces the earlier one. The deployment need not
        exist any more (labels often arrive late).
        """
        pairs = list(labels.items()) if isinstance(labels, Mapping) else list(labels)
        for rid, _ in pairs:
            if not isinstance(rid, str) or not 0 < len(rid) <= 128:
                raise InvalidInput(
                    f"a request id is a string of 1 to 128 characters, not {rid!r}",
                    details={"request_id": str(rid)[:128]},
                )
        return self.store.put_feedback(check_deployment_name(name), pairs, time=now_ms())

    def read_feedback(
        self,
        name: str,
        *,
        start: int | None = None,
        end: int | None = None,
        request_ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> builtins.list[Feedback]:
        """Labels received in ``[start, end)`` (ms) and/or for the given request ids."""
        return self.store.list_feedback(
            name, start=start, end=end, request_ids=request_ids, limit=limit
        )

    def read_predictions(
        self,
        name: str,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        with_feedback: bool = False,
    ) -> pa.Table:
        """The logged predictions of ``[start, end)`` (ms since the epoch) as a pyarrow Table.

        Columns: ``request_id``, ``row``, ``time``, ``model_name``, ``model_version``,
        ``role``, ``latency_ms``, ``prediction`` and one per model input (see
        ``docs/serving.md``). With ``with_feedback`` a ``label`` column holds the ground truth
        posted for the request (``null`` where none arrived; a list label is matched to rows
        by position).
        """
        from modelward.deployments.predictions import read_prediction_log

        if self.artifacts is None:  # pragma: no cover - wiring error
            raise InvalidInput("this DeploymentService has no artifact service")
        table = read_prediction_log(self.artifacts, name, start=start, end=end, limit=limit)
        if with_feedback:
            table = _join_feedback(table, self.read_feedback(name, request_ids=_ids(table)))
        return table


def _ids(table: pa.Table) -> list[str]:
    return sorted(set(table.column("request_id").to_pylist()))


def _join_feedback(table: pa.Table, feedback: Sequence[Feedback]) -> pa.Table:
    import pyarrow as pa

    labels = {f.request_id: f.label for f in feedback}
    out: list[Any] = []
    for rid, row in zip(
        table.column("request_id").to_pylist(), table.column("row").to_pylist(), strict=True
    ):
        label = labels.get(rid)
        if isinstance(label, list):
            label = label[row] if row < len(label) else None
        out.append(label)
    try:
        column = pa.array(out)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        column = pa.array([None if v is None else str(v) for v in out], pa.string())
    return table.append_column("label", column)
