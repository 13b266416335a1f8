"""Tracking entities: experiments, runs, metrics, params and tags."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "Experiment",
    "LifecycleStage",
    "Metric",
    "Run",
    "RunStatus",
]


class RunStatus(enum.StrEnum):
    """Where a run is in its life. ``RUNNING`` is the only non-terminal status."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        """Whether the run has ended."""
        return self is not RunStatus.RUNNING


class LifecycleStage(enum.StrEnum):
    """Soft-deletion state of an experiment or run."""

    ACTIVE = "active"
    DELETED = "deleted"


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs.

    Attributes:
        id: Opaque identifier.
        name: Unique name.
        lifecycle_stage: ``active`` or ``deleted``.
        created_at: Creation time, ms since the epoch.
        tags: Free-form string tags.
    """

    id: str
    name: str
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    created_at: int = 0
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric's history.

    ``value`` may be NaN or ±inf; they are stored and returned faithfully. A point unpacks as
    ``(step, timestamp, value)``: ``for step, ts, value in mw.get_metric_history(...)``.
    """

    key: str
    value: float
    step: int
    timestamp: int

    def __iter__(self) -> Iterator[int | float]:
        return iter((self.step, self.timestamp, self.value))

    def is_nan(self) -> bool:
        """Whether the value is NaN."""
        return math.isnan(self.value)


@dataclass(frozen=True, slots=True)
class Run:
    """A snapshot of one run: its attributes, params, tags and latest metric values.

    Attributes:
        id: Opaque run identifier (32 hex characters).
        experiment_id: The experiment the run belongs to.
        name: Human-readable name (not unique).
        status: RUNNING, FINISHED, FAILED or KILLED.
        start_time: ms since the epoch.
        end_time: ms since the epoch, ``None`` while running.
        parent_id: The parent run for nested runs.
        user: Who started the run.
        lifecycle_stage: ``active`` or ``deleted``.
        params: Immutable key/value strings.
        tags: Mutable key/value strings.
        metrics: Latest value of each metric (highest step, then latest timestamp).
        host: Host name of the process that ran it.
        pid: Process id of the process that ran it.
        heartbeat_at: Last heartbeat, ms since the epoch.
        environment_digest: Digest of the recorded environment, if captured.
    """

    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None = None
    parent_id: str | None = None
    user: str | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    metrics: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    host: str | None = None
    pid: int | None = None
    heartbeat_at: int | None = None
    environment_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary (NaN and inf become strings)."""
        return {
            "id": self.id,
            "experiment_id": self.experiment_id,
            "name": self.name,
            "status": str(self.status),
            "start_time": self.start_time,
            "end_time": self.end_time,
            "parent_id": self.parent_id,
            "user": self.user,
            "lifecycle_stage": str(self.lifecycle_stage),
            "params": dict(self.params),
            "tags": dict(self.tags),
            "metrics": {k: json_float(v) for k, v in self.metrics.items()},
            "host": self.host,
            "pid": self.pid,
            "heartbeat_at": self.heartbeat_at,
            "environment_digest": self.environment_digest,
        }


def json_float(value: float) -> float | str:
    """Return ``value`` unchanged, or ``"NaN"``/``"Infinity"``/``"-Infinity"`` for JSON."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
