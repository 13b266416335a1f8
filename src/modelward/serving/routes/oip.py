"""Open Inference Protocol v2 (KServe, Triton, MLServer): inference and model metadata.

``POST /v2/models/{name}/infer`` takes ``{"id"?, "inputs": [{"name", "shape", "datatype",
"data"}], "outputs"?}``. For a tabular model the inputs are either one tensor of shape
``[N, F]`` holding the features in signature order (what MLServer's scikit-learn runtime
takes), or one tensor per feature, named after it, of shape ``[N]`` or ``[N, 1]``. The reply
has ``model_name``, ``model_version``, ``id`` and one output tensor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from modelward.errors import InvalidInput, NotFound
from modelward.serving import codecs
from modelward.serving.endpoint import PredictEndpoint
from modelward.serving.http import Scope
from modelward.serving.routing import LoadedModel, oip_datatype
from modelward.serving.validation import Batch

__all__ = ["InferEndpoint"]


class InferEndpoint(PredictEndpoint):
    """``POST /v2/models/{name}/infer`` (and ``/versions/{version}/infer``)."""

    endpoint = "infer"

    def check_path(self, scope: Scope) -> None:
        params = scope.get("path_params") or {}
        name = params.get("name")
        if name != self.state.name:
            raise NotFound(
                f"no model {name!r} here; this server serves {self.state.name!r}",
                details={"model": name, "served": self.state.name},
            )

    def decode(self, doc: Any, model: LoadedModel, scope: Scope) -> tuple[Batch, Any]:
        version = (scope.get("path_params") or {}).get("version")
        if version is not None and version != model.version_text:
            raise NotFound(
                f"version {version} of {self.state.name!r} is not served here (serving "
                f"{model.version_text}); use /v2/models/{self.state.name}/infer",
                details={"version": version, "served": model.version_text},
            )
        if not isinstance(doc, Mapping):
            raise InvalidInput("the body must be a JSON object with an 'inputs' list")
        inputs = doc.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise InvalidInput(
                "'inputs' must be a non-empty list of tensors {name, shape, datatype, data}"
            )
        tensors: dict[str, tuple[Any, Any]] = {}
        for i, tensor in enumerate(inputs):
            if not isinstance(tensor, Mapping) or not isinstance(tensor.get("name"), str):
                raise InvalidInput(f"input {i} must be an object with a 'name'")
            for key in ("shape", "data"):
                if key not in tensor:
                    raise InvalidInput(f"input {tensor['name']!r} has no {key!r}")
            tensors[tensor["name"]] = (tensor["data"], tensor["shape"])
        request_id = doc.get("id")
        context = request_id if isinstance(request_id, str) else None
        spec = model.spec
        if len(tensors) == 1:
            ((name, (data, shape)),) = tensors.items()
            whole = spec.kind != "columns" or name not in spec.index or len(spec.names) == 1
            if whole or (isinstance(shape, list) and len(shape) == 2 and shape[1] > 1):
                return spec.from_tensor(name, data, shape), context
        if spec.kind == "tensor":
            return spec.from_tensors(tensors), context
        columns: dict[str, Any] = {}
        for name, (data, shape) in tensors.items():
            if isinstance(shape, list) and len(shape) == 2 and shape[1] != 1:
                raise InvalidInput(
                    f"input {name!r} has shape {shape}; a per-feature input has shape [N] or "
                    "[N, 1]",
                    details={"input": name, "shape": shape},
                )
            columns[name] = _flat(data)
        return spec.from_columns(columns), context

    def encode(self, outputs: np.ndarray, model: LoadedModel, rid: str, context: Any) -> bytes:
        return codecs.dumps(
            {
                "model_name": self.state.name,
                "model_version": model.version_text,
                "id": context or rid,
                "parameters": {"request_id": rid},
                "outputs": [
                    {
                        "name": model.output_name,
                        "shape": list(outputs.shape),
                        "datatype": oip_datatype(outputs.dtype),
                        "data": codecs.tolist(outputs.reshape(-1)),
                    }
                ],
            }
        )


def _flat(data: Any) -> Any:
    if isinstance(data, list) and data and isinstance(data[0], list):
        out: list[Any] = []
        for item in data:
            if isinstance(item, list):
                out.extend(item)
            else:
                out.append(item)
        return out
    return data
