"""Where trials run: the :class:`Executor` contract and its ``local`` and ``ray`` executors."""

from __future__ import annotations

from modelward.errors import InvalidInput
from modelward.training.executors.base import (
    Executor,
    ObjectRef,
    Resources,
    TaskOutcome,
    TaskState,
    report_progress,
)

__all__ = [
    "EXECUTORS",
    "Executor",
    "ObjectRef",
    "Resources",
    "TaskOutcome",
    "TaskState",
    "make_executor",
    "report_progress",
]

#: Names accepted by ``--executor``.
EXECUTORS = ("local", "ray")


def make_executor(
    name: str = "local", *, workers: int | None = None, address: str | None = None
) -> Executor:
    """Build an executor by name.

    Args:
        name: ``local`` (worker processes here) or ``ray``.
        workers: Most concurrent trials (local), or CPUs of a local Ray instance.
        address: ``HOST:PORT`` of a Ray cluster (ray only).

    Raises:
        InvalidInput: Unknown name, or an address given to the local executor.
        MissingDependency: ``ray`` without Ray installed.
        Unavailable: The Ray cluster cannot be reached.
    """
    if name == "local":
        if address is not None:
            raise InvalidInput("--address is for the ray executor; add --executor ray")
        from modelward.training.executors.local import LocalExecutor

        return LocalExecutor(workers)
    if name == "ray":
        from modelward.training.executors.ray import RayExecutor

        return RayExecutor(address, workers=workers)
    raise InvalidInput(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
