"""Flavors: how each kind of model is written to files and read back, without pickle.

Each flavor module offers ``save(model, path, request) -> Saved`` and
``load(path, manifest, options) -> Backend``. :class:`Backend` is what the one
:class:`~modelward.models.predictor.Predictor` drives, whatever the flavor.

| flavor    | files                                  | loading executes code?                   |
|-----------|----------------------------------------|------------------------------------------|
| sklearn   | model.skops (+ model.onnx)             | no: skops refuses types not on the list  |
| onnx      | model.onnx                             | no                                       |
| pytorch   | weights.safetensors + architecture     | imports the named nn.Module class        |
| python    | code/ + artifacts/ + class path        | imports the class (shipped code: trust)  |
| pickle    | model.joblib                           | yes: refused unless ``trust=True``       |
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from modelward._lazy import loaded_module
from modelward.entities.models import ModelManifest, ModelSignature
from modelward.errors import InvalidInput

__all__ = [
    "FLAVORS",
    "Backend",
    "LoadOptions",
    "SaveRequest",
    "Saved",
    "detect_flavor",
    "flavor_module",
]

#: Flavor name -> module implementing it (imported on first use).
FLAVORS: dict[str, str] = {
    "sklearn": "modelward.models.flavors.sklearn",
    "onnx": "modelward.models.flavors.onnx",
    "pytorch": "modelward.models.flavors.pytorch",
    "python": "modelward.models.flavors.python",
    "pickle": "modelward.models.flavors.pickle",
}

#: What a backend's callables take: a validated Table, a dict of tensors, or the data as given
#: (models logged without a signature).
InputForm = Literal["table", "tensors", "raw"]


@dataclass(frozen=True)
class SaveRequest:
    """Everything ``log_model`` passes to a flavor's ``save``.

    Attributes:
        input_example: Example input (used for the signature, parity checks).
        signature: An explicit signature (wins over inference).
        onnx: Also export to ONNX (scikit-learn) and record a parity check.
        onnx_tolerance: Largest absolute difference accepted by the parity check.
        init_kwargs: Constructor arguments (PyTorch module, custom Python model).
        code_paths: Files or folders with the model's code (custom Python models).
        artifacts: Name -> local file or folder copied beside the model (custom Python).
        extra: Flavor-specific options.
    """

    input_example: Any = None
    signature: ModelSignature | None = None
    onnx: bool = False
    onnx_tolerance: float = 1e-4
    init_kwargs: Mapping[str, Any] | None = None
    code_paths: Sequence[str | Path] = ()
    artifacts: Mapping[str, str | Path] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Saved:
    """What a flavor's ``save`` reports for the manifest."""

    options: dict[str, Any]
    framework: dict[str, str]
    requirements: list[str]
    packages: list[str]
    signature: ModelSignature | None
    has_predict_proba: bool = False
    onnx: dict[str, Any] | None = None


@dataclass(frozen=True)
class LoadOptions:
    """Trust and backend choices for loading.

    Attributes:
        trust: Allow what could execute code from the model (pickle, shipped code, any type).
        trusted_types: Extra type names skops may load (see ``modelward.models.flavors.sklearn``).
        backend: ``auto`` (ONNX Runtime when a passing ONNX export exists), ``native`` or
            ``onnx``.
    """

    trust: bool = False
    trusted_types: Sequence[str] = ()
    backend: Literal["auto", "native", "onnx"] = "auto"


@dataclass
class Backend:
    """A loaded model reduced to the calls the predictor makes.

    Attributes:
        name: ``sklearn``, ``onnxruntime``, ``torch``, ``python`` or ``pickle``.
        predict: Batch -> array of predictions.
        predict_proba: Batch -> class probabilities, when the model has them.
        accepts: The batch form the callables take.
        native: The underlying object (estimator, session, module, instance).
    """

    name: str
    predict: Callable[[Any], Any]
    predict_proba: Callable[[Any], Any] | None
    accepts: InputForm
    native: Any


def flavor_module(name: str) -> Any:
    """Import the module implementing flavor ``name``."""
    target = FLAVORS.get(name)
    if target is None:
        raise InvalidInput(
            f"unknown model flavor {name!r}; this modelward knows {', '.join(sorted(FLAVORS))}. "
            "Upgrade modelward if the model was saved by a newer one",
            details={"flavor": name},
        )
    return importlib.import_module(target)


def _is_torch_module(model: Any) -> bool:
    torch = loaded_module("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _is_onnx_model(model: Any) -> bool:
    onnx = loaded_module("onnx")
    return onnx is not None and isinstance(model, onnx.ModelProto)


def detect_flavor(model: Any, *, unsafe_pickle: bool = False) -> str:
    """Pick the flavor for ``model``: the safe one its type calls for.

    Raises:
        InvalidInput: No safe flavor fits and ``unsafe_pickle`` was not given.
    """
    if unsafe_pickle:
        return "pickle"
    from modelward.models.flavors.python import PythonModel

    if isinstance(model, PythonModel):
        return "python"
    if _is_torch_module(model):
        return "pytorch"
    if _is_onnx_model(model) or (
        isinstance(model, str | Path) and str(model).lower().endswith(".onnx")
    ):
        return "onnx"
    if "sklearn" in sys.modules:
        from sklearn.base import BaseEstimator

        if isinstance(model, BaseEstimator):
            return "sklearn"
    raise InvalidInput(
        f"no safe format for a {type(model).__module__}.{type(model).__qualname__}: modelward "
        "saves scikit-learn estimators, torch.nn.Module, ONNX models and "
        "modelward.models.PythonModel subclasses. Wrap it in a PythonModel, or pass "
        "unsafe_pickle=True (loading will then need trust=True)",
        details={"type": f"{type(model).__module__}.{type(model).__qualname__}"},
    )


def requirement(dist: str) -> str | None:
    """``dist==version`` for an installed distribution, else ``None``."""
    from importlib import metadata

    try:
        return f"{dist}=={metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return None


def requirements(dists: Sequence[str]) -> list[str]:
    """Pinned requirement strings for the installed ones of ``dists``."""
    return [r for d in dists if (r := requirement(d)) is not None]


def manifest_packages(manifest: ModelManifest) -> list[str]:
    """The distributions a saved model depends on (for the environment comparison)."""
    return list(manifest.flavor_options.get("packages", ()))
