"""Model entities: signatures, manifests, registered models, versions, aliases and audit entries.

A *model* here is a directory of files plus a manifest (see :mod:`modelward.models.manifest`);
the registry names such directories (versions) and points names at them (aliases).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "AuditEntry",
    "ColumnSpec",
    "ModelManifest",
    "ModelSignature",
    "ModelVersion",
    "RegisteredModel",
    "SignatureKind",
    "VersionStatus",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class SignatureKind(enum.StrEnum):
    """How a model takes its input.

    ``columns``: named columns (a table: DataFrame, records, dict of columns or a 2-D array
    whose columns follow the signature order). ``tensor``: one or more named n-dimensional
    arrays (PyTorch, ONNX).
    """

    COLUMNS = "columns"
    TENSOR = "tensor"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One named input or output.

    Attributes:
        name: Column or tensor name.
        dtype: NumPy dtype name (``float64``, ``int64``, ``bool``, ``str``, ``datetime64[ns]``,
            ``object``).
        shape: For tensors, the full shape with ``-1`` for free dimensions (the batch);
            for columns, ``None`` (one value per row).
    """

    name: str
    dtype: str
    shape: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        data: dict[str, Any] = {"name": self.name, "dtype": self.dtype}
        if self.shape is not None:
            data["shape"] = list(self.shape)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        """Build from :meth:`to_dict` output."""
        shape = data.get("shape")
        return cls(
            name=str(data["name"]),
            dtype=str(data["dtype"]),
            shape=None if shape is None else tuple(int(d) for d in shape),
        )


@dataclass(frozen=True, slots=True)
class ModelSignature:
    """What a model accepts and returns.

    Attributes:
        inputs: Input columns (``columns`` kind, in order) or tensors (``tensor`` kind).
        outputs: What ``predict`` returns (and ``probabilities`` when the model has
            ``predict_proba``).
        kind: ``columns`` or ``tensor``.
    """

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()
    kind: SignatureKind = SignatureKind.COLUMNS

    @property
    def input_names(self) -> list[str]:
        """Input names in order."""
        return [c.name for c in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "kind": self.kind.value,
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSignature:
        """Build from :meth:`to_dict` output."""
        return cls(
            inputs=tuple(ColumnSpec.from_dict(c) for c in data.get("inputs", ())),
            outputs=tuple(ColumnSpec.from_dict(c) for c in data.get("outputs", ())),
            kind=SignatureKind(data.get("kind", "columns")),
        )


@dataclass(frozen=True, slots=True)
class ModelManifest:
    """Everything needed to load, check and trace a saved model.

    Attributes:
        format_version: Version of the on-disk model format (see ``docs/models.md``).
        name: The name given to ``log_model`` (the folder name under the run).
        flavor: ``sklearn``, ``pytorch``, ``onnx``, ``python`` or ``pickle``.
        flavor_options: Flavor-specific settings (file names, trusted types, class path).
        framework: ``{"name": ..., "version": ...}`` of the library that built the model.
        signature: Inputs and outputs.
        requirements: pip requirement strings needed to load it.
        run_id: The run that logged it (``None`` for a model saved to a local folder).
        datasets: Dataset versions the run recorded as inputs (``[{name, version, role}]``).
        metrics: The run's metrics when the model was logged.
        environment: Python, library versions, CPU/GPU at save time.
        files: Relative path -> ``{"sha256": ..., "size": ...}`` for every model file.
        onnx: The ONNX export and its parity check, if one was made.
        created_at: ms since the epoch.
        has_predict_proba: Whether the model returns class probabilities.
    """

    format_version: int
    name: str
    flavor: str
    flavor_options: Mapping[str, Any]
    framework: Mapping[str, str]
    signature: ModelSignature | None
    requirements: Sequence[str]
    run_id: str | None
    datasets: Sequence[Mapping[str, Any]]
    metrics: Mapping[str, Any]
    environment: Mapping[str, Any]
    files: Mapping[str, Mapping[str, Any]]
    onnx: Mapping[str, Any] | None = None
    created_at: int = 0
    has_predict_proba: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document written as the manifest file."""
        return {
            "format_version": self.format_version,
            "name": self.name,
            "flavor": self.flavor,
            "flavor_options": dict(self.flavor_options),
            "framework": dict(self.framework),
            "signature": None if self.signature is None else self.signature.to_dict(),
            "requirements": list(self.requirements),
            "run_id": self.run_id,
            "datasets": [dict(d) for d in self.datasets],
            "metrics": dict(self.metrics),
            "environment": dict(self.environment),
            "files": {k: dict(v) for k, v in sorted(self.files.items())},
            "onnx": None if self.onnx is None else dict(self.onnx),
            "created_at": self.created_at,
            "has_predict_proba": self.has_predict_proba,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelManifest:
        """Build from the manifest document (checked by :mod:`modelward.models.manifest`)."""
        sig = data.get("signature")
        return cls(
            format_version=int(data["format_version"]),
            name=str(data["name"]),
            flavor=str(data["flavor"]),
            flavor_options=dict(data.get("flavor_options") or {}),
            framework=dict(data.get("framework") or {}),
            signature=None if sig is None else ModelSignature.from_dict(sig),
            requirements=list(data.get("requirements") or []),
            run_id=data.get("run_id"),
            datasets=list(data.get("datasets") or []),
            metrics=dict(data.get("metrics") or {}),
            environment=dict(data.get("environment") or {}),
            files=dict(data.get("files") or {}),
            onnx=data.get("onnx"),
            created_at=int(data.get("created_at") or 0),
            has_predict_proba=bool(data.get("has_predict_proba", False)),
        )


class VersionStatus(enum.StrEnum):
    """Life of a model version. Only ``READY`` versions can carry aliases."""

    READY = "READY"
    ARCHIVED = "ARCHIVED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model in the registry.

    Attributes:
        name: Unique name.
        description: Free text.
        tags: Free-form string tags.
        created_at: ms since the epoch.
        updated_at: ms since the epoch of the last change.
        created_by: Who created it.
        latest_version: Highest version number ever issued (0 before the first).
        aliases: Alias -> version number.
    """

    name: str
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    created_at: int = 0
    updated_at: int = 0
    created_by: str | None = None
    latest_version: int = 0
    aliases: Mapping[str, int] = field(default_factory=lambda: _EMPTY)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "name": self.name,
            "description": self.description,
            "tags": dict(self.tags),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "created_by": self.created_by,
            "latest_version": self.latest_version,
            "aliases": dict(self.aliases),
        }


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One version of a registered model: a pointer at a model directory.

    Attributes:
        name: The registered model's name.
        version: 1, 2, 3, … (never reused, even after deletion).
        source: Where the files are, e.g. ``runs:/<run id>/model``.
        run_id: The run that logged the model, if any.
        artifact_scope: Artifact scope holding the files (``runs/<run id>``).
        artifact_path: Folder inside the scope (``model``).
        manifest_digest: sha256 of the manifest file at registration; loading checks it.
        flavor: The model's flavor.
        description: Free text.
        tags: Free-form string tags.
        status: READY, ARCHIVED or DELETED.
        created_by: Who registered it.
        created_at: ms since the epoch.
        updated_at: ms since the epoch of the last change.
        aliases: The aliases pointing at this version.
    """

    name: str
    version: int
    source: str
    run_id: str | None
    artifact_scope: str
    artifact_path: str
    manifest_digest: str
    flavor: str
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    status: VersionStatus = VersionStatus.READY
    created_by: str | None = None
    created_at: int = 0
    updated_at: int = 0
    aliases: Sequence[str] = ()

    @property
    def uri(self) -> str:
        """``models:/NAME/VERSION``."""
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "source": self.source,
            "run_id": self.run_id,
            "artifact_scope": self.artifact_scope,
            "artifact_path": self.artifact_path,
            "manifest_digest": self.manifest_digest,
            "flavor": self.flavor,
            "description": self.description,
            "tags": dict(self.tags),
            "status": self.status.value,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change to the registry, appended in the same transaction as the change.

    Attributes:
        id: Increasing sequence number (orders entries of one model).
        model: The registered model's name.
        action: e.g. ``create_model``, ``create_version``, ``set_alias``, ``archive_version``.
        actor: Who made the change.
        timestamp: ms since the epoch.
        version: The version concerned, if any.
        before: State before the change (``None`` when it created something).
        after: State after the change (``None`` when it removed something).
    """

    id: int
    model: str
    action: str
    actor: str
    timestamp: int
    version: int | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "id": self.id,
            "model": self.model,
            "action": self.action,
            "actor": self.actor,
            "timestamp": self.timestamp,
            "version": self.version,
            "before": None if self.before is None else dict(self.before),
            "after": None if self.after is None else dict(self.after),
        }
