"""``POST /predict``: a plain JSON list of records in, ``{"predictions": [...]}`` out.

Request: ``[{"f1": 1.0, "f2": 2.0}, ...]`` (one object alone means one row). Response:
``{"predictions": [...], "model_name": ..., "model_version": ..., "request_id": ...}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modelward.serving import codecs
from modelward.serving.endpoint import PredictEndpoint
from modelward.serving.http import Scope
from modelward.serving.routing import LoadedModel
from modelward.serving.validation import Batch

__all__ = ["RecordsEndpoint"]


class RecordsEndpoint(PredictEndpoint):
    """``POST /predict``."""

    endpoint = "predict"

    def decode(self, doc: Any, model: LoadedModel, scope: Scope) -> tuple[Batch, Any]:
        return model.spec.from_records(doc), None

    def encode(self, outputs: np.ndarray, model: LoadedModel, rid: str, context: Any) -> bytes:
        return codecs.dumps(
            {
                "predictions": codecs.tolist(outputs),
                "model_name": model.name,
                "model_version": model.version,
                "request_id": rid,
            }
        )
