"""Plain frozen dataclasses that carry modelward's data between layers (no I/O here)."""

from modelward.entities.artifacts import ArtifactEntry, Blob
from modelward.entities.common import Page, now_ms
from modelward.entities.datasets import (
    ColumnSchema,
    DatasetSplit,
    DatasetSummary,
    DatasetVersion,
    NewDatasetVersion,
    RunInput,
)
from modelward.entities.tracking import Experiment, LifecycleStage, Metric, Run, RunStatus

__all__ = [
    "ArtifactEntry",
    "Blob",
    "ColumnSchema",
    "DatasetSplit",
    "DatasetSummary",
    "DatasetVersion",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "NewDatasetVersion",
    "Page",
    "Run",
    "RunInput",
    "RunStatus",
    "now_ms",
]
