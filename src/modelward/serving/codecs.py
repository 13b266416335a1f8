"""JSON in and out of the serving hot path.

``orjson`` is used when it is installed (about 5x faster on small documents); the standard
library otherwise. Numbers are decoded as Python ints and floats (NumPy conversion happens in
:mod:`modelward.serving.validation`). The standard library's NaN and Infinity literals are
accepted on input so that validation can name the field holding one (a 422, not a parse error).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from modelward.errors import InvalidInput

__all__ = ["JSON_BACKEND", "dumps", "loads", "tolist"]

_orjson: Any
try:  # pragma: no cover - depends on the environment
    import orjson as _orjson  # type: ignore[import-not-found,no-redef]
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

#: Which JSON library the server uses.
JSON_BACKEND = "orjson" if _orjson is not None else "json"

_decode = json.JSONDecoder().decode
_encode = json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode


def loads(body: bytes) -> Any:
    """Decode a request body; InvalidInput (400) with the position when it is not JSON."""
    if _orjson is not None:
        try:
            return _orjson.loads(body)
        except _orjson.JSONDecodeError:
            pass  # the standard library decides (NaN literals) and words the error
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the request body is not UTF-8 text (byte {exc.start}); send UTF-8 encoded JSON",
            details={"position": exc.start},
        ) from None
    try:
        return _decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column "
            f"{exc.colno}",
            details={"line": exc.lineno, "column": exc.colno, "position": exc.pos},
        ) from None
    except RecursionError:
        raise InvalidInput("the request body nests too deeply to be read") from None


def dumps(obj: Any) -> bytes:
    """Encode a response; NaN and infinity (which JSON cannot spell) become ``null``."""
    if _orjson is not None:
        # orjson writes NaN/inf as null by itself.
        return bytes(_orjson.dumps(obj, option=_orjson.OPT_SERIALIZE_NUMPY))
    try:
        return _encode(obj).encode()
    except ValueError:
        return _encode(_nan_to_null(obj)).encode()


def tolist(values: np.ndarray) -> list[Any]:
    """Model output as JSON-ready Python values (bytes decoded, objects stringified)."""
    if values.dtype.kind in "fiub":
        return values.tolist()  # type: ignore[no-any-return]
    if values.dtype.kind == "S":
        return [v.decode("utf-8", "replace") for v in values.reshape(-1)]
    out = values.tolist()
    return [_plain(v) for v in out] if isinstance(out, list) else [_plain(out)]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _nan_to_null(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_null(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_null(v) for v in obj]
    return obj
