"""Loaded models and the routing snapshot requests read: champion, canary, shadow.

A :class:`Routing` is immutable. The watcher builds a new one when anything changes and swaps
it in with one assignment, so a request that has read the snapshot finishes on the models it
chose, and the next request sees the new ones: no lock, no request waits for a load.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from modelward.entities.deployments import Limits
from modelward.serving.batcher import Batcher
from modelward.serving.http import Scope
from modelward.serving.validation import Batch, InputSpec

__all__ = ["LoadedModel", "Routing", "predict_function"]

_DTYPES = {
    "f8": "FP64",
    "f4": "FP32",
    "f2": "FP16",
    "i8": "INT64",
    "i4": "INT32",
    "i2": "INT16",
    "i1": "INT8",
    "u8": "UINT64",
    "u4": "UINT32",
    "u2": "UINT16",
    "u1": "UINT8",
    "b1": "BOOL",
}


def oip_datatype(dtype: np.dtype | str) -> str:
    """The Open Inference Protocol datatype of a NumPy dtype (text and objects: BYTES)."""
    dt = np.dtype(dtype) if not isinstance(dtype, np.dtype) else dtype
    return _DTYPES.get(f"{dt.kind}{dt.itemsize}", "BYTES")


def predict_function(predictor: Any, spec: InputSpec) -> Callable[[Batch], Any]:
    """The cheapest correct call for a checked batch of this model.

    A 2-D array (every input one numeric dtype) goes to ``predict_array`` (no re-validation,
    ONNX when available); other batches go through ``predict``, which checks them again.
    """
    fast = getattr(predictor, "predict_array", None)
    slow = predictor.predict
    if spec.homogeneous and fast is not None:

        def call(batch: Batch) -> Any:
            if isinstance(batch, np.ndarray):
                return fast(batch)
            return slow(batch)

        return call
    return slow  # type: ignore[no-any-return]


class LoadedModel:
    """One model version loaded for one role, with its own batcher.

    Attributes:
        name: Registered model name.
        version: Version number.
        role: ``champion``, ``canary`` or ``shadow``.
        predictor: The loaded predictor.
        spec: Input checks derived from its signature.
        batcher: Its request queue.
        headers: ``x-model-name`` / ``x-model-version`` response headers, prebuilt.
    """

    __slots__ = (
        "batcher",
        "headers",
        "name",
        "output_name",
        "predictor",
        "role",
        "spec",
        "version",
        "version_text",
    )

    def __init__(
        self, name: str, version: int, role: str, predictor: Any, spec: InputSpec, batcher: Batcher
    ) -> None:
        self.name = name
        self.version = version
        self.version_text = str(version)
        self.role = role
        self.predictor = predictor
        self.spec = spec
        self.batcher = batcher
        self.headers = [
            (b"x-model-name", name.encode()),
            (b"x-model-version", self.version_text.encode()),
        ]
        signature = getattr(predictor, "signature", None)
        outputs: Any = getattr(signature, "outputs", ()) or ()
        self.output_name = outputs[0].name if outputs else "predict"

    @property
    def key(self) -> tuple[str, int, str]:
        """``(name, version, role)``."""
        return (self.name, self.version, self.role)

    def metadata(self) -> dict[str, Any]:
        """Open Inference Protocol tensor metadata of the inputs and outputs."""
        signature = getattr(self.predictor, "signature", None)
        inputs = []
        for name, dtype, shape in zip(
            self.spec.names,
            self.spec.dtypes,
            self.spec.shapes or [None] * len(self.spec.names),
            strict=False,
        ):
            dt = (
                "BYTES"
                if dtype in {"str", "object"} or dtype.startswith("datetime")
                else oip_datatype(dtype)
            )
            inputs.append({"name": name, "datatype": dt, "shape": list(shape) if shape else [-1]})
        outputs = []
        for out in getattr(signature, "outputs", ()) or ():
            dt = "BYTES" if out.dtype in {"str", "object"} else oip_datatype(out.dtype)
            outputs.append({"name": out.name, "datatype": dt, "shape": list(out.shape or [-1])})
        return {"inputs": inputs, "outputs": outputs}


class Routing:
    """What requests are sent to right now (immutable; replaced whole on every change).

    Args:
        champion: Receives the traffic not sent to the canary.
        canary: Receives ``canary_percent`` of the requests.
        canary_percent: 0-100.
        sticky_header: Lower-case header whose value pins a caller to one side (hashed).
        shadow: Receives a copy of every answered request.
        revision: The deployment revision this reflects.
        paused: Answer 503 to predictions (the deployment is paused).
        limits: Request limits.
    """

    __slots__ = (
        "_threshold",
        "canary",
        "canary_percent",
        "champion",
        "limits",
        "paused",
        "revision",
        "shadow",
        "sticky_header",
    )

    def __init__(
        self,
        champion: LoadedModel,
        *,
        canary: LoadedModel | None = None,
        canary_percent: float = 0.0,
        sticky_header: str | None = None,
        shadow: LoadedModel | None = None,
        revision: int = 0,
        paused: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.champion = champion
        self.limits = limits or Limits()
        self.canary = canary if canary_percent > 0 else None
        self.canary_percent = canary_percent if canary is not None else 0.0
        self.sticky_header = None if sticky_header is None else sticky_header.lower().encode()
        self.shadow = shadow
        self.revision = revision
        self.paused = paused
        self._threshold = self.canary_percent / 100.0

    def choose(self, scope: Scope) -> LoadedModel:
        """Champion or canary for this request."""
        canary = self.canary
        if canary is None:
            return self.champion
        if self.sticky_header is not None:
            for key, value in scope["headers"]:
                if key == self.sticky_header:
                    # crc32 is stable across processes (hash() is salted per process).
                    bucket = zlib.crc32(bytes(value)) % 10_000
                    return canary if bucket < self._threshold * 10_000 else self.champion
        return canary if random.random() < self._threshold else self.champion  # noqa: S311

    def models(self) -> list[LoadedModel]:
        """Every loaded model, champion first."""
        return [m for m in (self.champion, self.canary, self.shadow) if m is not None]
