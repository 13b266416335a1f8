"""Raw ASGI helpers for the hot endpoints: read a bounded body, answer JSON, report errors.

The prediction endpoints are plain ASGI callables rather than Starlette request handlers:
building a ``Request`` and a ``Response`` per call costs more than the model does for one row
(``docs/serving.md`` has the figures). Everything else in the app is ordinary Starlette.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from modelward.errors import (
    InvalidInput,
    ModelwardError,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)

__all__ = [
    "ClientGone",
    "Receive",
    "Scope",
    "Send",
    "error_body",
    "header",
    "new_request_id",
    "read_body",
    "send_error",
    "send_json",
]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON = b"application/json"
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class ClientGone(Exception):
    """The client disconnected before its request was read; nothing can be answered."""


def new_request_id() -> str:
    """A fresh request id (128 random bits, hex)."""
    return os.urandom(16).hex()


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case bytes), or ``None``."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def request_id(scope: Scope) -> str:
    """The client's ``x-request-id`` when it is a sane token, else a new one."""
    value = header(scope, b"x-request-id")
    if value is not None and _REQUEST_ID.fullmatch(value):
        return value.decode("ascii")
    return new_request_id()


def check_content_type(scope: Scope, *, csv: bool = False) -> str:
    """Return ``json`` or ``csv`` from the content type; UnsupportedMediaType otherwise.

    A missing content type is read as JSON (what most clients mean).
    """
    value = header(scope, b"content-type")
    if value is None:
        return "json"
    media = value.split(b";", 1)[0].strip().lower()
    if media == _JSON or media.endswith(b"+json"):
        return "json"
    if csv and media == b"text/csv":
        return "csv"
    accepted = "application/json" + (" or text/csv" if csv else "")
    raise UnsupportedMediaType(
        f"content type {media.decode('latin-1')!r} is not accepted here; send {accepted} "
        "(with curl: -H 'Content-Type: application/json')",
        details={"content_type": media.decode("latin-1"), "accepted": accepted},
    )


async def read_body(receive: Receive, scope: Scope, max_bytes: int, timeout: float) -> bytes:
    """Read the request body, refusing more than ``max_bytes`` and bodies slower than ``timeout``.

    A declared ``Content-Length`` over the limit is refused before reading anything; a body
    without one is counted as it arrives and refused as soon as it passes the limit.

    Raises:
        PayloadTooLarge: The body is over ``max_bytes``.
        RequestTimeout: The body did not arrive within ``timeout`` seconds.
        ClientGone: The client disconnected.
    """
    declared = header(scope, b"content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise InvalidInput("the Content-Length header is not a number") from None
        if length > max_bytes:
            raise _too_large(length, max_bytes)
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > max_bytes:
            raise _too_large(len(body), max_bytes)
        return body
    # Only bodies that arrive in pieces pay for a deadline.
    chunks = [body]
    size = len(body)
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(size, max_bytes)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {timeout:g} s; send it faster or in "
            "smaller requests",
            details={"timeout_s": timeout, "received_bytes": size},
        ) from None
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is {size:,} bytes; this endpoint accepts at most {limit:,}. "
        "Split the rows into several requests, or use `modelward predict` for files",
        details={"bytes": size, "max_bytes": limit},
    )


def error_body(code: str, message: str, details: Any = None) -> bytes:
    """The JSON error envelope ``{"error": {"code", "message", "details"}}`` as bytes."""
    payload = {"error": {"code": code, "message": message, "details": details or {}}}
    try:
        return json.dumps(payload, allow_nan=False, default=str).encode()
    except ValueError:  # a NaN in details: spell it as a string
        payload["error"]["details"] = json.loads(json.dumps(details, default=str))
        return json.dumps(payload, default=str).encode()


async def send_json(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a complete JSON response."""
    out = [(b"content-type", _JSON), (b"content-length", str(len(body)).encode())]
    if headers:
        out.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})


async def send_error(
    send: Send, exc: ModelwardError, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send ``exc`` as the JSON error envelope with its HTTP status.

    A 413 or 408 also closes the connection: the rest of the body is never read.
    """
    extra = list(headers or ())
    if exc.http_status in {408, 413}:
        extra.append((b"connection", b"close"))
    await send_json(send, exc.http_status, error_body(exc.code, exc.message, exc.details), extra)
