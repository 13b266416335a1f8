"""Lineage: from a registered version back to everything that produced it.

version -> run (params, metrics, code revision from the ``mw.source.*`` tags) -> environment
(through the run's environment digest) -> dataset versions the run used -> their parents.
Dataset versions come from the datasets service (``run_inputs(run_id)`` and
``lineage(ref)``); without it, or when the run recorded no inputs, the walk says so instead
of guessing (the manifest's own record of datasets is shown as a fallback).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from modelward.entities.models import ModelVersion
from modelward.errors import NotFound

if TYPE_CHECKING:
    from modelward.store.metadata.base import MetadataStore

__all__ = ["build_lineage", "dataset_inputs"]

log = logging.getLogger(__name__)

_SOURCE_PREFIX = "mw.source."


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


_DATASET_FIELDS = (
    "id",
    "name",
    "version",
    "ref",
    "digest",
    "rows",
    "artifact_digest",
    "created_at",
)


def _dataset_summary(version: Any) -> dict[str, Any]:
    """A compact description of a dataset version (never its profile or schema)."""
    found = {f: getattr(version, f) for f in _DATASET_FIELDS if hasattr(version, f)}
    if found:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in found.items()}
    plain = _plain(version)
    return plain if isinstance(plain, dict) else {"version": str(version)}


def _lineage_tree(node: Any) -> Any:
    """A dataset lineage node (version + parents + recipe) as nested dicts."""
    if hasattr(node, "version") and hasattr(node, "parents"):
        return {
            **_dataset_summary(node.version),
            "recipe": getattr(node, "recipe", None),
            "parents": [_lineage_tree(p) for p in node.parents],
        }
    return _plain(node)


def _dataset_ref(version: Any) -> str | None:
    ref = getattr(version, "ref", None)
    if isinstance(ref, str):
        return ref
    name, number = getattr(version, "name", None), getattr(version, "version", None)
    if name is not None and number is not None:
        return f"{name}@{number}"
    return None


def dataset_inputs(datasets: Any, run_id: str) -> list[dict[str, Any]]:
    """The dataset versions a run used, as compact dicts with their ``role`` (no parents)."""
    return [{**_dataset_summary(v), "role": role} for v, role in datasets.run_inputs(run_id)]


def _datasets_section(datasets: Any, run_id: str | None, manifest: Any) -> dict[str, Any]:
    if run_id is None:
        return {"inputs": [], "note": "the version has no source run"}
    if datasets is None or not hasattr(datasets, "run_inputs"):
        recorded = list(getattr(manifest, "datasets", []) or [])
        note = "dataset lineage is unavailable here (no datasets service)" + (
            "; showing the datasets recorded in the model manifest" if recorded else ""
        )
        return {"inputs": recorded, "note": note}
    inputs: list[dict[str, Any]] = []
    for version, role in datasets.run_inputs(run_id):
        entry = {**_dataset_summary(version), "role": role}
        ref = _dataset_ref(version)
        parents: Any = []
        if ref is not None and hasattr(datasets, "lineage"):
            try:
                tree = _lineage_tree(datasets.lineage(ref))
                parents = tree.get("parents", []) if isinstance(tree, dict) else tree
            except NotFound:
                parents = []
        entry["parents"] = parents
        inputs.append(entry)
    if not inputs:
        return {"inputs": [], "note": "no dataset inputs recorded for the run"}
    return {"inputs": inputs, "note": None}


def build_lineage(
    store: MetadataStore,
    version: ModelVersion,
    *,
    datasets: Any = None,
    ref: str = "",
    manifest: Any = None,
) -> dict[str, Any]:
    """Return the lineage of ``version`` as a JSON-friendly dict.

    Keys: ``ref``, ``version`` (the version), ``run`` (id, name, experiment, status, user,
    times, params, metrics, ``code`` from the git tags), ``environment`` (python, os, packages
    the model depends on, GPUs), ``model`` (flavor, framework, signature), ``datasets``
    (``inputs`` with each one's lineage, and a ``note`` when there is none).
    """
    result: dict[str, Any] = {"ref": ref, "version": version.to_dict()}
    if manifest is not None:
        result["model"] = {
            "flavor": manifest.flavor,
            "framework": dict(manifest.framework),
            "signature": None if manifest.signature is None else manifest.signature.to_dict(),
            "requirements": list(manifest.requirements),
            "onnx": manifest.onnx,
        }
    run = None
    if version.run_id is not None:
        try:
            run = store.get_run(version.run_id)
        except NotFound:
            result["run"] = None
            result["run_note"] = f"run {version.run_id} no longer exists"
    if run is not None:
        result["run"] = {
            "id": run.id,
            "name": run.name,
            "experiment_id": run.experiment_id,
            "status": run.status.value,
            "user": run.user,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "params": dict(run.params),
            "metrics": {k: v for k, v in run.metrics.items() if not k.startswith("system/")},
            "code": {
                k[len(_SOURCE_PREFIX) :]: v
                for k, v in run.tags.items()
                if k.startswith(_SOURCE_PREFIX)
            },
        }
        env: dict[str, Any] | None = None
        if run.environment_digest:
            try:
                env = store.get_environment(run.environment_digest)
            except NotFound:
                env = None
        result["environment"] = _environment_summary(env, run.environment_digest)
    result["datasets"] = _datasets_section(datasets, version.run_id, manifest)
    return result


def _environment_summary(env: dict[str, Any] | None, digest: str | None) -> dict[str, Any]:
    if env is None:
        return {"digest": digest, "note": "no environment recorded for the run"}
    packages = env.get("packages") or {}
    from modelward.models.environment import TRACKED_PACKAGES

    return {
        "digest": digest,
        "python": (env.get("python") or {}).get("version"),
        "os": (env.get("os") or {}).get("platform"),
        "host": env.get("host"),
        "cpu": env.get("cpu"),
        "gpus": env.get("gpus") or [],
        "packages": {k: packages[k] for k in TRACKED_PACKAGES if k in packages},
        "package_count": len(packages),
    }
