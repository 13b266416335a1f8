"""Plain frozen dataclasses that carry modelward's data between layers (no I/O here)."""

from modelward.entities.artifacts import ArtifactEntry, Blob
from modelward.entities.common import Page, now_ms
from modelward.entities.tracking import Experiment, LifecycleStage, Metric, Run, RunStatus

__all__ = [
    "ArtifactEntry",
    "Blob",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "Page",
    "Run",
    "RunStatus",
    "now_ms",
]
