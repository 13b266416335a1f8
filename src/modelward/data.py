"""Datasets from the SDK: ``mw.data.ingest(...)``, ``mw.data.get("wine@2")``, ….

Thin functions over :class:`~modelward.datasets.service.DatasetService` of the default client
(:func:`modelward.get_client`). Example::

    import modelward as mw

    wine = mw.data.ingest("sklearn:wine", name="wine").version      # wine@1
    mw.data.ingest("data/sales.csv", name="sales", expect="expect.yaml")
    clean = mw.data.prepare("recipe.yaml").version                  # lineage: wine@1 + recipe
    parts = mw.data.split(clean, test=0.2, seed=42, stratify="target")
    mw.data.query("SELECT target, avg(alcohol) FROM wine@1 GROUP BY 1")

    with mw.start_run():
        mw.log_input(clean, role="train", split=parts.split.name)
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from sklearn.compose import ColumnTransformer

    from modelward.datasets.analysis import DatasetDiff
    from modelward.datasets.ingest import IngestResult
    from modelward.datasets.lineage import LineageNode
    from modelward.datasets.service import (
        DatasetService,
        ExpectationsLike,
        RecipeLike,
        VersionLike,
    )
    from modelward.datasets.splits import SplitIndices
    from modelward.datasets.validation import ValidationReport
    from modelward.entities import DatasetSplit, DatasetSummary, DatasetVersion
    from modelward.profiling import DatasetProfile

__all__ = [
    "compile_transforms",
    "diff",
    "export",
    "get",
    "get_split",
    "ingest",
    "lineage",
    "list",
    "load",
    "load_arrow",
    "prepare",
    "profile",
    "query",
    "split",
    "splits",
    "validate",
    "versions",
]


def _service() -> DatasetService:
    from modelward.fluent import get_client

    return get_client().datasets


def ingest(
    source: Any = None,
    *,
    name: str,
    sql: str | None = None,
    db: str | None = None,
    expect: ExpectationsLike | None = None,
    types: Mapping[str, Any] | None = None,
    description: str | None = None,
    **options: Any,
) -> IngestResult:
    """Ingest a file, folder, URL, SQL query, DataFrame or ``sklearn:NAME`` as a version.

    See :meth:`DatasetService.ingest <modelward.datasets.service.DatasetService.ingest>`.
    ``result.version`` is the version; ``result.created`` is false when identical content
    was already a version of ``name``.
    """
    return _service().ingest(
        source,
        name=name,
        sql=sql,
        db=db,
        expect=expect,
        types=types,
        description=description,
        **options,
    )


def get(ref: VersionLike) -> DatasetVersion:
    """Return a version: ``"wine@2"``, ``"wine@latest"`` or ``"wine"``."""
    return _service().get(ref)


def list() -> builtins.list[DatasetSummary]:
    """Every dataset with its version count and newest version."""
    return _service().list()


def versions(name: str) -> builtins.list[DatasetVersion]:
    """Every version of a dataset, oldest first."""
    return _service().versions(name)


def load(
    ref: VersionLike,
    columns: Sequence[str] | None = None,
    *,
    split: str | int | None = None,
    part: str | None = None,
) -> pd.DataFrame:
    """Return a version's rows as a pandas DataFrame (optionally one part of a split)."""
    return _service().load(ref, columns, split=split, part=part)


def load_arrow(ref: VersionLike, columns: Sequence[str] | None = None) -> pa.Table:
    """Return a version's rows as a pyarrow Table."""
    return _service().load_arrow(ref, columns)


def profile(ref: VersionLike) -> DatasetProfile:
    """Return a version's profile."""
    return _service().profile(ref)


def validate(ref: VersionLike, expect: ExpectationsLike) -> ValidationReport:
    """Check a stored version against expectations."""
    return _service().validate(ref, expect)


def prepare(recipe: RecipeLike, *, name: str | None = None) -> IngestResult:
    """Apply a recipe (object, dict or YAML file) and store the result as a new version."""
    return _service().prepare(recipe, name=name)


def compile_transforms(
    recipe: RecipeLike | VersionLike, columns: Sequence[str] | None = None
) -> ColumnTransformer:
    """Return a recipe's feature steps as an unfitted scikit-learn ``ColumnTransformer``."""
    return _service().compile_transforms(recipe, columns)


def split(
    ref: VersionLike,
    *,
    train: float | None = None,
    validation: float | None = None,
    test: float | None = None,
    seed: int = 0,
    stratify: str | None = None,
    name: str | None = None,
) -> SplitIndices:
    """Split a version's rows deterministically and record the split with it."""
    return _service().split(
        ref,
        train=train,
        validation=validation,
        test=test,
        seed=seed,
        stratify=stratify,
        name=name,
    )


def get_split(ref: VersionLike, split: str | int | None = None) -> SplitIndices:
    """Return the row numbers of a recorded split's parts."""
    return _service().get_split(ref, split)


def splits(ref: VersionLike) -> builtins.list[DatasetSplit]:
    """Every split recorded for a version."""
    return _service().splits(ref)


def diff(a: VersionLike, b: VersionLike) -> DatasetDiff:
    """Compare two versions: schema, rows, statistics and drift."""
    return _service().diff(a, b)


def query(sql: str, *, limit: int | None = None) -> pa.Table:
    """Run SQL over versions (``SELECT … FROM wine@2``) with DuckDB; returns a pyarrow Table."""
    return _service().query(sql, limit=limit)


def export(ref: VersionLike, output: str | Path, *, format: str | None = None) -> Path:
    """Write a version to a Parquet, CSV, JSON-lines or JSON file."""
    return _service().export(ref, output, format=format)


def lineage(ref: VersionLike) -> LineageNode:
    """Return the tree of versions a version was prepared from."""
    return _service().lineage(ref)
