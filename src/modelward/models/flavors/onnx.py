"""ONNX flavor: an ONNX model stored as given and served by ONNX Runtime.

An ONNX file is a computation graph, not code: loading it executes nothing chosen by its
author. The signature is read from the graph (names, element types, shapes) unless given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from modelward.entities.models import ColumnSpec, ModelManifest, ModelSignature, SignatureKind
from modelward.errors import InvalidInput, require
from modelward.models.flavors import Backend, LoadOptions, Saved, SaveRequest, requirements

__all__ = ["load", "save", "signature_from_session"]

MODEL_FILE = "model.onnx"

_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "str",
}


def _shape(dims: Any) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d >= 0 else -1 for d in (dims or ()))


def signature_from_session(sess: Any) -> ModelSignature:
    """The tensor signature ONNX Runtime reports for a graph."""

    def spec(node: Any) -> ColumnSpec:
        return ColumnSpec(node.name, _ORT_TYPES.get(node.type, "object"), _shape(node.shape))

    return ModelSignature(
        tuple(spec(i) for i in sess.get_inputs()),
        tuple(spec(o) for o in sess.get_outputs()),
        SignatureKind.TENSOR,
    )


def save(model: Any, path: Path, request: SaveRequest) -> Saved:
    """Write an ``onnx.ModelProto``, ONNX bytes or an ``.onnx`` file into ``path``."""
    require("onnxruntime", "onnx")
    file = path / MODEL_FILE
    if isinstance(model, bytes):
        file.write_bytes(model)
    elif isinstance(model, str | Path):
        source = Path(model)
        if not source.is_file():
            raise InvalidInput(f"no ONNX file at {source}")
        file.write_bytes(source.read_bytes())
    elif hasattr(model, "SerializeToString"):
        file.write_bytes(model.SerializeToString())
    else:
        raise InvalidInput(
            f"the onnx flavor takes an onnx.ModelProto, bytes or a path, not {type(model).__name__}"
        )
    from modelward.models.flavors.sklearn_onnx import session

    try:
        sess = session(file)
    except Exception as exc:
        raise InvalidInput(f"ONNX Runtime cannot load this model: {exc}") from exc
    signature = request.signature or signature_from_session(sess)
    if request.input_example is not None:
        from modelward.models.signature import coerce_tensors

        sess.run(None, coerce_tensors(request.input_example, signature))
    import onnxruntime

    return Saved(
        options={"file": MODEL_FILE, "packages": ["onnxruntime", "numpy"]},
        framework={"name": "onnxruntime", "version": onnxruntime.__version__},
        requirements=requirements(["onnxruntime", "numpy"]),
        packages=["onnxruntime", "numpy"],
        signature=signature,
    )


def load(path: Path, manifest: ModelManifest, options: LoadOptions) -> Backend:
    """An ONNX Runtime session; ``predict`` returns the graph's first output."""
    from modelward.models.flavors.sklearn_onnx import session

    sess = session(path / str(manifest.flavor_options.get("file", MODEL_FILE)))
    first = sess.get_outputs()[0].name
    run = sess.run

    def predict(tensors: dict[str, np.ndarray]) -> Any:
        return run([first], tensors)[0]

    return Backend("onnxruntime", predict, None, "tensors", sess)
