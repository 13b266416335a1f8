"""``POST /invocations``: MLflow's scoring protocol, so existing MLflow clients work unchanged.

Accepted bodies (``Content-Type: application/json``), exactly one of:

- ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`` (``index`` ignored)
- ``{"dataframe_records": [{...}, ...]}``
- ``{"instances": ...}`` or ``{"inputs": ...}``: records, rows in signature order, or an
  object of columns (tensor models: an object of arrays, or one array)

plus an optional ``params`` object (ignored), or a ``text/csv`` body with a header line.
Response: ``{"predictions": [...]}``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from modelward.errors import InvalidInput, SchemaViolation
from modelward.serving import codecs
from modelward.serving.endpoint import PredictEndpoint
from modelward.serving.http import Scope
from modelward.serving.routing import LoadedModel
from modelward.serving.validation import Batch, InputSpec

__all__ = ["InvocationsEndpoint"]

_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class InvocationsEndpoint(PredictEndpoint):
    """``POST /invocations``."""

    endpoint = "invocations"
    accepts_csv = True

    def decode(self, doc: Any, model: LoadedModel, scope: Scope) -> tuple[Batch, Any]:
        if not isinstance(doc, Mapping):
            raise InvalidInput(
                "the body must be a JSON object with one of " + ", ".join(_KEYS),
                details={"accepted": list(_KEYS)},
            )
        keys = [k for k in _KEYS if k in doc]
        unknown = [k for k in doc if k not in _KEYS and k != "params"]
        if len(keys) != 1 or unknown:
            raise InvalidInput(
                "the body must have exactly one of "
                + ", ".join(_KEYS)
                + (f" (got {', '.join(map(repr, unknown or keys))})" if unknown or keys else ""),
                details={"accepted": list(_KEYS), "got": list(doc)},
            )
        key = keys[0]
        value = doc[key]
        spec = model.spec
        if key == "dataframe_split":
            if not isinstance(value, Mapping) or "data" not in value:
                raise InvalidInput("dataframe_split must be an object with 'columns' and 'data'")
            columns = value.get("columns")
            return spec.from_rows(value["data"], columns if columns is not None else None), None
        if key == "dataframe_records":
            return spec.from_records(value), None
        return _instances(spec, value), None

    def decode_csv(self, body: bytes, model: LoadedModel) -> tuple[Batch, Any]:
        try:
            reader = csv.reader(io.StringIO(body.decode("utf-8")))
            header = next(reader)
            rows = [row for row in reader if row]
        except (UnicodeDecodeError, StopIteration, csv.Error) as exc:
            raise InvalidInput(f"the CSV body cannot be read: {exc}") from None
        spec = model.spec
        numeric = {
            n
            for n, d in zip(spec.names, spec.dtypes, strict=True)
            if d not in {"str", "object"} and not d.startswith("datetime")
        }
        parsed: list[list[Any]] = []
        for i, row in enumerate(rows):
            if len(row) != len(header):
                raise SchemaViolation(
                    f"CSV row {i} has {len(row)} values but the header has {len(header)}",
                    details={"row": i},
                )
            parsed.append(
                [_number(header[j], v, i) if header[j] in numeric else v for j, v in enumerate(row)]
            )
        return spec.from_rows(parsed, header), None

    def encode(self, outputs: np.ndarray, model: LoadedModel, rid: str, context: Any) -> bytes:
        return codecs.dumps({"predictions": codecs.tolist(outputs)})


def _number(name: str, text: str, row: int) -> Any:
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise SchemaViolation(
            f"field {name!r} of row {row} must be a number, got {text[:40]!r}",
            details={"field": name, "row": row},
        ) from None


def _instances(spec: InputSpec, value: Any) -> Batch:
    if isinstance(value, Mapping):
        return spec.from_columns(value)
    if not isinstance(value, list):
        raise InvalidInput("'instances'/'inputs' must be a list of rows or an object of columns")
    if value and isinstance(value[0], Mapping):
        return spec.from_records(value)
    if spec.kind == "tensor" and len(spec.names) == 1:
        return spec.from_columns({spec.names[0]: value})
    if value and not isinstance(value[0], list) and len(spec.names) == 1:
        value = [[v] for v in value]
    return spec.from_rows(value)
