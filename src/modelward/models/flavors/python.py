"""Custom Python flavor: a model defined by code (a class path plus files), not by pickle.

Subclass :class:`PythonModel`, implement ``predict`` (and optionally ``load_context`` and
``predict_proba``), and log an instance: modelward records ``module:Class`` and the
constructor arguments, copies ``code_paths`` into the model's ``code/`` folder and
``artifacts`` into ``artifacts/``. The instance's state is *not* saved: ``load_context``
rebuilds it from the artifacts.

Trust: code you ship is code you run. When the class is importable from the loading
environment (an installed package, your project), loading imports it from there, with no
``trust`` needed: that code is already yours. When it can only come from the model's own
``code/`` folder, loading it executes code that travelled with the model, so
``load_model(..., trust=True)`` is required (the folder's digests are still verified).
"""

from __future__ import annotations

import abc
import importlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from modelward.entities.models import ModelManifest
from modelward.errors import InvalidInput, NotFound, UnsafeModel
from modelward.models.flavors import Backend, LoadOptions, Saved, SaveRequest, requirements
from modelward.models.signature import Table, infer_signature

__all__ = ["PythonModel", "load", "save"]

CODE_DIR = "code"
ARTIFACTS_DIR = "artifacts"


class PythonModel(abc.ABC):
    """Base class of custom Python models.

    Example:
        >>> class Doubler(PythonModel):
        ...     def predict(self, data):
        ...         return data["x"].to_numpy() * 2
    """

    def load_context(self, artifacts: Path) -> None:  # noqa: B027 - an optional hook
        """Rebuild state from the files logged with ``artifacts=`` (called once at load)."""

    @abc.abstractmethod
    def predict(self, data: Any) -> Any:
        """Return predictions for a batch (a DataFrame when the model has a signature)."""


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, ignore=_ignore)
    elif source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    else:
        raise InvalidInput(f"no file or folder at {source}")


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}


def save(model: Any, path: Path, request: SaveRequest) -> Saved:
    """Record the class, copy code and artifacts."""
    cls = type(model)
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise InvalidInput(
            f"{cls.__qualname__} is defined in the main script or a function and could not be "
            "imported when loading; move it into a module (and pass code_paths=[that file] "
            "if it is not installed)"
        )
    kwargs = dict(request.init_kwargs or {})
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise InvalidInput(f"init_kwargs must be JSON-serialisable: {exc}") from exc
    for source in request.code_paths:
        src = Path(source)
        _copy(src, path / CODE_DIR / src.name)
    (path / ARTIFACTS_DIR).mkdir(exist_ok=True)
    for name, source in request.artifacts.items():
        if not name or "/" in name or name in {".", ".."}:
            raise InvalidInput(f"artifact name {name!r} must be a plain file or folder name")
        _copy(Path(source), path / ARTIFACTS_DIR / name)
    signature = request.signature
    if signature is None and request.input_example is not None:
        model.load_context(path / ARTIFACTS_DIR)
        from modelward.models.signature import _as_example_frame

        signature = infer_signature(
            request.input_example, model.predict(_as_example_frame(request.input_example))
        )
    return Saved(
        options={
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "init_kwargs": kwargs,
            "code": CODE_DIR if request.code_paths else None,
            "artifacts": ARTIFACTS_DIR,
        },
        framework={"name": "python", "version": sys.version.split()[0]},
        requirements=requirements(["numpy", "pandas"]),
        packages=["numpy", "pandas"],
        signature=signature,
        has_predict_proba=callable(getattr(model, "predict_proba", None)),
    )


def _import_class(class_path: str, code_dir: Path | None, trust: bool) -> Any:
    module_name, _, qualname = class_path.partition(":")
    top = module_name.split(".")[0]
    try:
        in_env = top in sys.modules or importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        in_env = False
    if not in_env:
        shipped = code_dir is not None and (
            (code_dir / top).is_dir() or (code_dir / f"{top}.py").is_file()
        )
        if not shipped:
            raise NotFound(
                f"cannot import {module_name!r} for the model class {class_path!r}: it is not "
                "installed here and the model ships no code for it; install it, or log the "
                "model with code_paths=[...]",
                details={"class": class_path},
            )
        if not trust:
            raise UnsafeModel(
                f"the model class {class_path!r} comes from code shipped inside the model; "
                "loading it runs that code. If you trust where this model comes from, pass "
                "trust=True to load_model",
                details={"class": class_path},
            )
        assert code_dir is not None
        sys.path.insert(0, str(code_dir))
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def load(path: Path, manifest: ModelManifest, options: LoadOptions) -> Backend:
    """Import the class (see the module's trust rule), build it and call ``load_context``."""
    opts = manifest.flavor_options
    code = opts.get("code")
    cls = _import_class(str(opts["class"]), path / str(code) if code else None, options.trust)
    if not (isinstance(cls, type) and issubclass(cls, PythonModel)):
        raise InvalidInput(f"{opts['class']} is not a modelward.models.PythonModel subclass")
    instance = cls(**dict(opts.get("init_kwargs") or {}))
    instance.load_context(path / str(opts.get("artifacts", ARTIFACTS_DIR)))

    def prepare(data: Any) -> Any:
        return data.frame() if isinstance(data, Table) else data

    def predict(data: Any) -> Any:
        return instance.predict(prepare(data))

    proba = None
    if callable(getattr(instance, "predict_proba", None)):

        def proba(data: Any) -> Any:
            return instance.predict_proba(prepare(data))  # type: ignore[attr-defined]

    return Backend("python", predict, proba, "table", instance)
