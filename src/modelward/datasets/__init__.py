"""Datasets: collect, validate, prepare, version, split, analyse and trace data.

The service is :class:`~modelward.datasets.service.DatasetService` (``client.datasets``); the
SDK functions are in :mod:`modelward.data` (``mw.data.ingest(...)``); the CLI is
``modelward data …``. See ``docs/datasets.md``.
"""

from modelward.datasets.ingest import IngestResult
from modelward.datasets.recipes import Recipe
from modelward.datasets.service import DatasetService
from modelward.datasets.splits import SplitIndices
from modelward.datasets.validation import Expectations, ValidationReport

__all__ = [
    "DatasetService",
    "Expectations",
    "IngestResult",
    "Recipe",
    "SplitIndices",
    "ValidationReport",
]
