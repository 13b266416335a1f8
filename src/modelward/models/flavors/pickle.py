"""Pickle flavor (joblib): only when the caller says ``unsafe_pickle=True``.

Unpickling runs whatever code the file names (CVE-2024-37057 is this, in MLflow), so a pickled
model loads only with ``trust=True``; without it, loading stops with
:class:`~modelward.errors.UnsafeModel` before a byte is unpickled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelward.entities.models import ModelManifest
from modelward.errors import UnsafeModel, require
from modelward.models.flavors import Backend, LoadOptions, Saved, SaveRequest, requirements
from modelward.models.signature import infer_signature

__all__ = ["load", "save"]

MODEL_FILE = "model.joblib"


def save(model: Any, path: Path, request: SaveRequest) -> Saved:
    """Pickle ``model`` with joblib (the caller passed ``unsafe_pickle=True``)."""
    joblib = require("joblib", "all")
    joblib.dump(model, path / MODEL_FILE)
    signature = request.signature
    frame = False
    if signature is None and request.input_example is not None and hasattr(model, "predict"):
        from modelward.models.flavors.sklearn import _predict_output, _wants_frame

        frame = _wants_frame(model, request.input_example)
        signature = infer_signature(
            request.input_example, _predict_output(model, request.input_example)
        )
    cls = type(model)
    return Saved(
        options={
            "file": MODEL_FILE,
            "serializer": "joblib",
            "input_format": "frame" if frame else "array",
            "class": f"{cls.__module__}.{cls.__qualname__}",
        },
        framework={"name": "joblib", "version": joblib.__version__},
        requirements=requirements(["joblib", "numpy", "scikit-learn"]),
        packages=["joblib", "numpy", "scikit-learn"],
        signature=signature,
        has_predict_proba=hasattr(model, "predict_proba"),
    )


def load(path: Path, manifest: ModelManifest, options: LoadOptions) -> Backend:
    """Unpickle, but only with ``trust=True``."""
    if not options.trust:
        raise UnsafeModel(
            f"this model ({manifest.flavor_options.get('class', 'unknown type')}) was saved "
            "with pickle (unsafe_pickle=True); unpickling runs any code the file contains. "
            "Load it only if you trust its source, with trust=True",
            details={"flavor": "pickle"},
        )
    joblib = require("joblib", "all")
    model = joblib.load(path / str(manifest.flavor_options.get("file", MODEL_FILE)))
    from modelward.models.flavors.sklearn import native_backend

    backend = native_backend(
        model, str(manifest.flavor_options.get("input_format", "array")), "pickle"
    )
    return backend
