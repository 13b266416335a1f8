"""Dataset entities: immutable dataset versions, their columns, splits and run inputs.

A dataset version is named ``NAME@N`` (its *ref*), numbered per name from 1, and identified by
a content digest: the same data ingested again is the same version. Its rows live in one
Parquet blob in the artifact store (``artifact_digest``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "ColumnSchema",
    "DatasetSplit",
    "DatasetSummary",
    "DatasetVersion",
    "NewDatasetVersion",
    "RunInput",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """One column of a dataset version.

    Attributes:
        name: Column name.
        type: Logical Arrow type, e.g. ``"double"``, ``"int64"``, ``"string"``,
            ``"timestamp[us]"`` (``large_string`` is reported as ``string``).
        nullable: Whether the column holds at least one missing value.
    """

    name: str
    type: str
    nullable: bool

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {"name": self.name, "type": self.type, "nullable": self.nullable}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSchema:
        """Read the form written by :meth:`to_dict`."""
        return cls(str(data["name"]), str(data["type"]), bool(data["nullable"]))


@dataclass(frozen=True, slots=True)
class NewDatasetVersion:
    """What the service hands the store to record a version (the store numbers it).

    Attributes:
        digest: Content digest (see docs/datasets.md, "Identity").
        rows: Row count.
        size: Bytes of the Parquet blob.
        artifact_digest: sha256 of the Parquet blob, already in the artifact store.
        schema: The columns.
        profile: The profile's JSON form.
        source: Where the data came from (JSON, no secrets).
        source_fingerprint: Hash of the source bytes and read options, when the source has
            stable bytes (files); lets an unchanged source be recognised by hashing alone.
        parent_ids: Ids of the versions this one was prepared from.
        recipe: The preparation recipe's JSON form, for prepared versions.
        description: Free text.
    """

    digest: str
    rows: int
    size: int
    artifact_digest: str
    schema: tuple[ColumnSchema, ...]
    profile: Mapping[str, Any]
    source: Mapping[str, Any]
    source_fingerprint: str | None = None
    parent_ids: tuple[str, ...] = ()
    recipe: Mapping[str, Any] | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """An immutable version of a named dataset.

    Attributes:
        id: Opaque identifier.
        name: Dataset name.
        version: Number within the name, from 1.
        digest: Content digest: equal digests mean equal data (schema and values).
        rows: Row count.
        schema: Columns in order.
        profile: Profile JSON (see :class:`modelward.profiling.DatasetProfile`).
        source: Where the data came from.
        parents: Refs (``name@N``) of the versions it was prepared from.
        parent_ids: Ids of those versions, in the same order.
        recipe: The preparation recipe, for prepared versions.
        created_at: ms since the epoch.
        size: Bytes of the stored Parquet file.
        artifact_digest: sha256 of the stored Parquet file.
        source_fingerprint: Hash of the source bytes and read options, if any.
        description: Free text.
    """

    id: str
    name: str
    version: int
    digest: str
    rows: int
    schema: tuple[ColumnSchema, ...] = ()
    profile: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    source: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    parents: tuple[str, ...] = ()
    parent_ids: tuple[str, ...] = ()
    recipe: Mapping[str, Any] | None = None
    created_at: int = 0
    size: int = 0
    artifact_digest: str = ""
    source_fingerprint: str | None = None
    description: str | None = None

    @property
    def ref(self) -> str:
        """The version's reference, e.g. ``"wine@2"``."""
        return f"{self.name}@{self.version}"

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(c.name for c in self.schema)

    def to_dict(self, *, profile: bool = True) -> dict[str, Any]:
        """Return a JSON-friendly dictionary (``profile=False`` leaves the profile out)."""
        data: dict[str, Any] = {
            "id": self.id,
            "ref": self.ref,
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "rows": self.rows,
            "size": self.size,
            "artifact_digest": self.artifact_digest,
            "created_at": self.created_at,
            "schema": [c.to_dict() for c in self.schema],
            "source": dict(self.source),
            "source_fingerprint": self.source_fingerprint,
            "parents": list(self.parents),
            "recipe": dict(self.recipe) if self.recipe is not None else None,
            "description": self.description,
        }
        if profile:
            data["profile"] = dict(self.profile)
        return data

    def __repr__(self) -> str:
        return f"DatasetVersion({self.ref!r}, rows={self.rows}, digest={self.digest[:12]!r})"


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """One named dataset in a listing.

    Attributes:
        name: Dataset name.
        versions: How many versions it has.
        latest: Its newest version number.
        rows: Rows of the newest version.
        created_at: When the first version was made (ms).
        updated_at: When the newest version was made (ms).
    """

    name: str
    versions: int
    latest: int
    rows: int
    created_at: int
    updated_at: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "name": self.name,
            "versions": self.versions,
            "latest": self.latest,
            "ref": f"{self.name}@{self.latest}",
            "rows": self.rows,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class DatasetSplit:
    """A recorded train/validation/test assignment of a version's rows.

    Attributes:
        id: Opaque identifier.
        version_id: The dataset version split.
        name: Name of the split within the version (default ``seed<SEED>``).
        seed: Random seed used.
        fractions: Part name -> fraction of rows (``train``, ``validation``, ``test``).
        stratify: Column whose class proportions each part keeps, if any.
        counts: Part name -> rows assigned.
        artifact_digest: sha256 of the blob holding one part code per row.
        created_at: ms since the epoch.
    """

    id: str
    version_id: str
    name: str
    seed: int
    fractions: Mapping[str, float]
    stratify: str | None
    counts: Mapping[str, int]
    artifact_digest: str
    created_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "id": self.id,
            "version_id": self.version_id,
            "name": self.name,
            "seed": self.seed,
            "fractions": dict(self.fractions),
            "stratify": self.stratify,
            "counts": dict(self.counts),
            "artifact_digest": self.artifact_digest,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class RunInput:
    """A dataset version a run read.

    Attributes:
        run_id: The run.
        version: The dataset version.
        role: What the run used it for (``train``, ``validation``, ``test``, ``input``, ...).
        split: Name of the version's split the role refers to, if any.
        created_at: When it was recorded (ms).
    """

    run_id: str
    version: DatasetVersion
    role: str
    split: str | None = None
    created_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary (the version without its profile)."""
        return {
            "run_id": self.run_id,
            "ref": self.version.ref,
            "version_id": self.version.id,
            "digest": self.version.digest,
            "role": self.role,
            "split": self.split,
            "created_at": self.created_at,
        }
