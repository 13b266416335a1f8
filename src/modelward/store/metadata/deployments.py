"""The deployments part of the metadata store contract: deployments, history, feedback.

Every change to a deployment appends a history entry (with the whole record before and after)
in the same transaction, so the history can never disagree with the record.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from modelward.entities.deployments import Deployment, DeploymentChange, Feedback

__all__ = ["DeploymentStore"]


class DeploymentStore(abc.ABC):
    """Deployment records, their change history, and ground-truth feedback."""

    @abc.abstractmethod
    def create_deployment(self, deployment: Deployment, *, actor: str) -> Deployment:
        """Insert a deployment; :class:`~modelward.errors.AlreadyExists` if the name is taken.

        ``revision``, ``created_at`` and ``updated_at`` are set by the store.
        """

    @abc.abstractmethod
    def get_deployment(self, name: str) -> Deployment:
        """Return one deployment; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def list_deployments(self) -> list[Deployment]:
        """Return every deployment, by name."""

    @abc.abstractmethod
    def update_deployment(
        self,
        deployment: Deployment,
        *,
        actor: str,
        action: str = "update",
        expected_revision: int | None = None,
    ) -> Deployment:
        """Replace a deployment's record with ``deployment`` (same name); bump its revision.

        With ``expected_revision`` this is a compare-and-set: if the stored revision differs,
        :class:`~modelward.errors.Conflict` and nothing changes.
        """

    @abc.abstractmethod
    def delete_deployment(self, name: str, *, actor: str) -> None:
        """Remove a deployment (its history and feedback are kept)."""

    @abc.abstractmethod
    def list_deployment_history(self, name: str, *, limit: int = 1000) -> list[DeploymentChange]:
        """Return a deployment's changes, oldest first (the last ``limit``)."""

    @abc.abstractmethod
    def put_feedback(self, deployment: str, labels: Sequence[tuple[str, Any]], *, time: int) -> int:
        """Store labels by request id (a later label replaces an earlier one); return the count."""

    @abc.abstractmethod
    def list_feedback(
        self,
        deployment: str,
        *,
        start: int | None = None,
        end: int | None = None,
        request_ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Feedback]:
        """Return labels received in ``[start, end)`` (ms) and/or for the given request ids."""
