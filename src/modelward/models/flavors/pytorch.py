"""PyTorch flavor: weights as safetensors plus an architecture spec, never a pickled module.

The architecture is the import path of an ``nn.Module`` subclass and its constructor
arguments as JSON (``{"class": "pkg.nets:MLP", "init_kwargs": {"hidden": 32}}``). Loading
imports that class from the environment (your code, not the file's), builds it, and fills in
the weights with ``safetensors`` (which holds tensors only). A module can state its own
constructor arguments with a ``modelward_init_kwargs()`` method or an ``init_kwargs`` dict
attribute; otherwise pass ``init_kwargs=`` to ``log_model``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from modelward.entities.models import ModelManifest, SignatureKind
from modelward.errors import InvalidInput, MissingDependency, NotFound, require
from modelward.models.flavors import Backend, LoadOptions, Saved, SaveRequest, requirements
from modelward.models.signature import infer_signature

__all__ = ["import_class", "load", "save"]

WEIGHTS_FILE = "weights.safetensors"
ARCH_FILE = "architecture.json"


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependency(
            "PyTorch is not installed; install it with: pip install 'modelward[torch]'",
            details={"module": "torch", "extra": "torch"},
        ) from exc
    return torch


def _class_path(cls: type) -> str:
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        where = "a function" if "<locals>" in cls.__qualname__ else "the main script"
        raise InvalidInput(
            f"{cls.__qualname__} is defined in {where} and cannot be imported when the model "
            "is loaded; move the class into a module"
        )
    return f"{cls.__module__}:{cls.__qualname__}"


def import_class(path: str) -> Any:
    """Import ``module:Qualified.Name``; NotFound with the fix when it is not importable."""
    module_name, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise NotFound(
            f"cannot import {module_name!r} for the model class {path!r} ({exc}); install the "
            "package that defines it or add its folder to sys.path",
            details={"class": path},
        ) from exc
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise NotFound(f"{module_name!r} has no {qualname!r} (model class {path!r})")
    return obj


def _init_kwargs(model: Any, request: SaveRequest) -> dict[str, Any]:
    if request.init_kwargs is not None:
        kwargs = dict(request.init_kwargs)
    elif callable(getattr(model, "modelward_init_kwargs", None)):
        kwargs = dict(model.modelward_init_kwargs())
    elif isinstance(getattr(model, "init_kwargs", None), dict):
        kwargs = dict(model.init_kwargs)
    else:
        kwargs = {}
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise InvalidInput(
            f"init_kwargs must be JSON-serialisable (numbers, strings, lists, dicts): {exc}"
        ) from exc
    return kwargs


def save(model: Any, path: Path, request: SaveRequest) -> Saved:
    """Write the module's state dict as safetensors and its architecture as JSON."""
    torch = _torch()
    safetensors_torch = require("safetensors.torch", "torch")
    class_path = _class_path(type(model))
    kwargs = _init_kwargs(model, request)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    safetensors_torch.save_file(state, str(path / WEIGHTS_FILE))
    device = "cpu"
    for p in model.parameters():
        device = p.device.type
        break
    (path / ARCH_FILE).write_text(
        json.dumps({"class": class_path, "init_kwargs": kwargs}, indent=2, sort_keys=True)
    )
    signature = request.signature
    if signature is None and request.input_example is not None:
        example = np.asarray(request.input_example)
        with torch.no_grad():
            was_training = model.training
            model.eval()
            out = model(torch.as_tensor(example).to(device)).detach().cpu().numpy()
            model.train(was_training)
        signature = infer_signature(example, out, kind=SignatureKind.TENSOR)
    return Saved(
        options={
            "weights": WEIGHTS_FILE,
            "architecture": ARCH_FILE,
            "class": class_path,
            "saved_device": device,
        },
        framework={"name": "torch", "version": torch.__version__},
        requirements=requirements(["torch", "safetensors", "numpy"]),
        packages=["torch", "safetensors", "numpy"],
        signature=signature,
    )


def load(path: Path, manifest: ModelManifest, options: LoadOptions) -> Backend:
    """Import the class, build it, load the weights (on CPU, or CUDA when available)."""
    torch = _torch()
    safetensors_torch = require("safetensors.torch", "torch")
    arch = json.loads(
        (path / str(manifest.flavor_options.get("architecture", ARCH_FILE))).read_text()
    )
    cls = import_class(str(arch["class"]))
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise InvalidInput(f"{arch['class']} is not a torch.nn.Module subclass")
    module = cls(**arch.get("init_kwargs", {}))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    state = safetensors_torch.load_file(
        str(path / str(manifest.flavor_options.get("weights", WEIGHTS_FILE))), device=device
    )
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise InvalidInput(
            f"the weights do not fit {arch['class']}(**{arch.get('init_kwargs', {})}): "
            f"missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]}; the class "
            "changed since the model was saved"
        )
    module.to(device).eval()

    def predict(tensors: dict[str, np.ndarray]) -> Any:
        inputs = [torch.as_tensor(a).to(device) for a in tensors.values()]
        with torch.inference_mode():
            out = module(*inputs)
        if isinstance(out, tuple | list):
            out = out[0]
        return out.detach().cpu().numpy()

    return Backend("torch", predict, None, "tensors", module)
