"""The one predictor type every loaded model becomes, whatever its flavor.

Contract (serving and monitoring build on it; see ``docs/models.md``):

- ``predict(data)`` takes a DataFrame, a 2-D NumPy array (columns in signature order), a list
  of records (dicts) or a dict of columns (tensor models: an array, or a dict of arrays) and
  returns a NumPy array. The signature is enforced first; safe casts are made; a missing
  column, a wrong type or shape raises :class:`~modelward.errors.SchemaViolation`, an empty
  batch :class:`~modelward.errors.InvalidInput`.
- ``predict_proba(data)`` likewise, when ``has_predict_proba``.
- ``validate(data)`` returns the checked batch; ``predict_validated(batch)`` skips the checks.
- ``predict_array(x)`` is the fast path for callers that already built a correct 2-D array:
  no checks, no copies, no DataFrame unless the model itself needs one.
- Batches over ``chunk_rows`` are predicted chunk by chunk (bounded memory in the model);
  ``predict_iter`` yields the chunks' results instead of concatenating them; ``max_rows``
  refuses bigger batches with :class:`~modelward.errors.PayloadTooLarge`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from modelward.entities.models import ModelManifest, ModelSignature, SignatureKind
from modelward.errors import InvalidInput, PayloadTooLarge
from modelward.models.flavors import Backend
from modelward.models.signature import Table, coerce_tensors, to_table

__all__ = ["DEFAULT_CHUNK_ROWS", "Predictor"]

#: Rows predicted per model call when a batch is larger.
DEFAULT_CHUNK_ROWS = 100_000


class Predictor:
    """A loaded model with one calling convention for all flavors.

    Args:
        backend: The flavor's loaded model.
        manifest: The model's manifest.
        source: Where it was loaded from (a URI), for messages.
        path: The verified local directory holding its files.
        chunk_rows: Rows per model call for large batches.
        max_rows: Refuse batches with more rows (``None``: no limit, chunked).
    """

    def __init__(
        self,
        backend: Backend,
        manifest: ModelManifest,
        *,
        source: str,
        path: Path,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        max_rows: int | None = None,
    ) -> None:
        if chunk_rows < 1:
            raise InvalidInput(f"chunk_rows must be at least 1, not {chunk_rows}")
        self._backend = backend
        self.manifest = manifest
        self.source = source
        self.path = path
        self.chunk_rows = chunk_rows
        self.max_rows = max_rows
        self._signature = manifest.signature
        self._kind = None if self._signature is None else self._signature.kind
        self._names = [] if self._signature is None else self._signature.input_names
        self._predict: Callable[[Any], Any] = backend.predict
        self._proba = backend.predict_proba

    # -- description -----------------------------------------------------------------------
    @property
    def signature(self) -> ModelSignature | None:
        """What the model accepts and returns (``None`` if it was logged without one)."""
        return self._signature

    @property
    def flavor(self) -> str:
        """The flavor the model was saved with."""
        return self.manifest.flavor

    @property
    def backend(self) -> str:
        """What runs predictions: sklearn, onnxruntime, torch, python or pickle."""
        return self._backend.name

    @property
    def has_predict_proba(self) -> bool:
        """Whether :meth:`predict_proba` is available."""
        return self._proba is not None

    def unwrap(self) -> Any:
        """The underlying object (estimator, ONNX session, torch module, PythonModel)."""
        return self._backend.native

    # -- validation ------------------------------------------------------------------------
    def validate(self, data: Any) -> Any:
        """Check ``data`` against the signature and return the batch the backend takes."""
        if self._kind is SignatureKind.COLUMNS:
            assert self._signature is not None
            batch: Any = to_table(data, self._signature)
        elif self._kind is SignatureKind.TENSOR:
            assert self._signature is not None
            batch = coerce_tensors(data, self._signature)
        else:
            batch = _raw(data)
            if self._backend.accepts == "tensors":
                batch = {"input": np.asarray(batch)}
        rows = _rows(batch)
        if rows == 0:
            raise InvalidInput("the batch is empty (0 rows); send at least one row")
        if self.max_rows is not None and rows > self.max_rows:
            raise PayloadTooLarge(
                f"the batch has {rows:,} rows; this predictor accepts at most "
                f"{self.max_rows:,} per call. Split it, or use predict_iter() to stream it",
                details={"rows": rows, "max_rows": self.max_rows},
            )
        return batch

    # -- prediction ------------------------------------------------------------------------
    def predict(self, data: Any) -> np.ndarray:
        """Predict a batch (see the module docstring for the accepted shapes)."""
        return self._run(self._predict, self.validate(data))

    def predict_proba(self, data: Any) -> np.ndarray:
        """Class probabilities for a batch (rows x classes)."""
        return self._run(self._require_proba(), self.validate(data))

    def predict_validated(self, batch: Any) -> np.ndarray:
        """Predict a batch returned by :meth:`validate` (no second check)."""
        return self._run(self._predict, batch)

    def predict_array(self, x: np.ndarray) -> np.ndarray:
        """Fast path: predict a 2-D array already in signature order and dtype, unchecked.

        For ``columns`` models, ``x`` has one column per input in signature order; for a
        one-input ``tensor`` model it is that tensor. Nothing is validated or copied: the
        caller (e.g. the serving layer, which checked the JSON) is responsible. Large arrays
        are not chunked here.
        """
        if self._backend.accepts == "tensors":
            name = "input" if self._signature is None else self._signature.inputs[0].name
            return np.asarray(self._predict({name: x}))
        if self._backend.accepts == "table":
            return np.asarray(self._predict(Table(self._names, array=x)))
        return np.asarray(self._predict(x))

    def predict_proba_array(self, x: np.ndarray) -> np.ndarray:
        """Fast path of :meth:`predict_proba` (same contract as :meth:`predict_array`)."""
        proba = self._require_proba()
        return np.asarray(proba(Table(self._names, array=x)))

    def predict_iter(self, data: Any, chunk_rows: int | None = None) -> Iterator[np.ndarray]:
        """Validate ``data`` once and yield predictions chunk by chunk (bounded output memory)."""
        batch = self.validate(data)
        size = chunk_rows or self.chunk_rows
        for start in range(0, _rows(batch), size):
            yield np.asarray(self._predict(_slice(batch, start, start + size)))

    def _require_proba(self) -> Callable[[Any], Any]:
        if self._proba is None:
            raise InvalidInput(
                f"this {self.flavor} model ({self.backend}) has no predict_proba; use predict"
            )
        return self._proba

    def _run(self, fn: Callable[[Any], Any], batch: Any) -> np.ndarray:
        rows = _rows(batch)
        if rows <= self.chunk_rows:
            return np.asarray(fn(batch))
        parts = [
            np.asarray(fn(_slice(batch, start, start + self.chunk_rows)))
            for start in range(0, rows, self.chunk_rows)
        ]
        return np.concatenate(parts, axis=0)

    def __repr__(self) -> str:
        return (
            f"Predictor(source={self.source!r}, flavor={self.flavor!r}, backend={self.backend!r})"
        )


def _raw(data: Any) -> Any:
    """Without a signature: records and dicts become a DataFrame, the rest goes as given."""
    if isinstance(data, Mapping) or (
        isinstance(data, list) and data and isinstance(data[0], Mapping)
    ):
        import pandas as pd

        if isinstance(data, Mapping):
            return pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in data.items()})
        return pd.DataFrame.from_records(data)
    if isinstance(data, list):
        return np.asarray(data)
    return data


def _rows(batch: Any) -> int:
    if isinstance(batch, Table):
        return batch.n_rows
    if isinstance(batch, dict):
        first = next(iter(batch.values()), None)
        return 0 if first is None else int(np.shape(first)[0]) if np.ndim(first) else 1
    try:
        return len(batch)
    except TypeError:
        return 1


def _slice(batch: Any, start: int, stop: int) -> Any:
    if isinstance(batch, Table):
        return batch.slice(start, stop)
    if isinstance(batch, dict):
        return {k: v[start:stop] for k, v in batch.items()}
    if hasattr(batch, "iloc"):
        return batch.iloc[start:stop]
    return batch[start:stop]
