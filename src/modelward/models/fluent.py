"""Top-level model and registry functions (``mw.log_model``, ``mw.load_model``, …).

A thin layer over the default client's ``models`` and ``registry`` services, like
:mod:`modelward.fluent` is for tracking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from modelward.entities.models import (
    AuditEntry,
    ModelManifest,
    ModelSignature,
    ModelVersion,
    RegisteredModel,
)
from modelward.fluent import _current, get_client
from modelward.models.predictor import DEFAULT_CHUNK_ROWS, Predictor
from modelward.models.service import LoggedModel

__all__ = [
    "delete_alias",
    "export_model",
    "get_model_version",
    "get_registered_model",
    "load_model",
    "log_model",
    "model_audit",
    "model_lineage",
    "register_model",
    "save_model",
    "set_alias",
]


def log_model(
    model: Any,
    name: str = "model",
    *,
    input_example: Any = None,
    signature: ModelSignature | Mapping[str, Any] | None = None,
    run_id: str | None = None,
    registered_model_name: str | None = None,
    onnx: bool = False,
    unsafe_pickle: bool = False,
    **options: Any,
) -> LoggedModel:
    """Save a model into the active run (safe format, signature, digests).

    Args:
        model: scikit-learn estimator/pipeline, ``torch.nn.Module``, ONNX model,
            :class:`~modelward.models.PythonModel`, or anything with ``unsafe_pickle=True``.
        name: Folder inside the run (default ``model``).
        input_example: A few input rows: gives the signature and the ONNX parity check.
        signature: Explicit signature.
        run_id: Another run than the active one.
        registered_model_name: Also register it as the next version of this model.
        onnx: Also export a scikit-learn model to ONNX.
        unsafe_pickle: Save with pickle (loading will need ``trust=True``).
        **options: More :meth:`~modelward.models.service.ModelService.log_model` options
            (``init_kwargs``, ``code_paths``, ``artifacts``, ``requirements``, …).

    Example:
        >>> with mw.start_run():
        ...     info = mw.log_model(pipeline, "model", input_example=X.head())
    """
    client = get_client()
    logged: LoggedModel = client.models.log_model(
        model,
        name,
        run_id=_current(run_id),
        input_example=input_example,
        signature=signature,
        onnx=onnx,
        unsafe_pickle=unsafe_pickle,
        **options,
    )
    if registered_model_name is not None:
        client.registry.register(logged.uri, registered_model_name)
    return logged


def save_model(model: Any, path: str | Path, **options: Any) -> ModelManifest:
    """Write a model directory to a local folder (no run, no store)."""
    return get_client().models.save_model(model, path, **options)


def load_model(
    uri: str | Path,
    *,
    trust: bool = False,
    trusted_types: Sequence[str] = (),
    backend: Literal["auto", "native", "onnx"] = "auto",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    max_rows: int | None = None,
) -> Predictor:
    """Load a model, verified, as a :class:`~modelward.models.Predictor`.

    ``uri``: ``runs:/RUN_ID/NAME``, ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``,
    ``models:/NAME/latest`` or a local folder. Nothing that can execute untrusted code is
    loaded unless ``trust=True``.
    """
    return get_client().models.load_model(
        uri,
        trust=trust,
        trusted_types=trusted_types,
        backend=backend,
        chunk_rows=chunk_rows,
        max_rows=max_rows,
    )


def register_model(
    source: str | LoggedModel,
    name: str,
    *,
    description: str = "",
    tags: Mapping[str, Any] | None = None,
    alias: str | None = None,
) -> ModelVersion:
    """Register a logged model (``runs:/RUN_ID/NAME``) as the next version of ``name``."""
    uri = source.uri if isinstance(source, LoggedModel) else source
    return get_client().registry.register(
        uri, name, description=description, tags=tags, alias=alias
    )


def set_alias(
    name: str, alias: str, version: int, *, expected_version: int | None = None
) -> int | None:
    """Point ``alias`` (e.g. ``champion``) at ``version``; return the previous version."""
    return get_client().registry.set_alias(name, alias, version, expected_version=expected_version)


def delete_alias(name: str, alias: str) -> int:
    """Remove an alias; return the version it pointed at."""
    return get_client().registry.delete_alias(name, alias)


def get_registered_model(name: str) -> RegisteredModel:
    """Return a registered model with its tags and aliases."""
    return get_client().registry.get_model(name)


def get_model_version(ref: str) -> ModelVersion:
    """Return the version named by ``NAME@ALIAS``, ``NAME/VERSION`` or ``NAME/latest``."""
    return get_client().registry.resolve(ref)


def model_audit(name: str, *, limit: int = 1000) -> list[AuditEntry]:
    """The audit log of a registered model, oldest first."""
    return get_client().registry.audit(name, limit=limit)


def model_lineage(ref: str) -> dict[str, Any]:
    """Version -> run -> params, metrics, code, environment -> dataset versions."""
    return get_client().registry.lineage(ref)


def export_model(uri: str, output: str | Path, *, format: str = "onnx") -> Path:
    """Write a model in another format (``onnx``) and return the file path."""
    return get_client().models.export(uri, output, format=format)
