"""The shared shape of every prediction endpoint, as a raw ASGI callable.

Read a bounded body, decode JSON, pick champion or canary, check the input against that
model's signature, queue it for the batcher, answer, then mirror it to the shadow model.
Protocols differ only in :meth:`PredictEndpoint.decode` and :meth:`PredictEndpoint.encode`.
Every failure is answered with the JSON error envelope and its status; no input leads to a 500.
"""

from __future__ import annotations

import abc
import logging
import time
from typing import Any

import numpy as np

from modelward.errors import ModelwardError, Unavailable
from modelward.serving import codecs
from modelward.serving.http import (
    ClientGone,
    Receive,
    Scope,
    Send,
    check_content_type,
    error_body,
    read_body,
    request_id,
    send_error,
    send_json,
)
from modelward.serving.routing import LoadedModel
from modelward.serving.state import ServingState
from modelward.serving.validation import Batch, batch_rows

__all__ = ["PredictEndpoint"]

log = logging.getLogger(__name__)


class PredictEndpoint(abc.ABC):
    """Base class of the prediction endpoints (``/predict``, ``/invocations``, OIP infer).

    Args:
        state: The serving state.
    """

    #: Metrics label.
    endpoint = "predict"
    #: Whether ``text/csv`` bodies are read too.
    accepts_csv = False

    def __init__(self, state: ServingState) -> None:
        self.state = state

    @abc.abstractmethod
    def decode(self, doc: Any, model: LoadedModel, scope: Scope) -> tuple[Batch, Any]:
        """Turn the decoded body into a checked batch plus per-request context."""

    def decode_csv(self, body: bytes, model: LoadedModel) -> tuple[Batch, Any]:
        """Turn a CSV body into a checked batch; endpoints with ``accepts_csv`` override it."""
        from modelward.errors import UnsupportedMediaType

        raise UnsupportedMediaType(
            f"the {self.endpoint} endpoint does not accept text/csv; send application/json"
        )

    @abc.abstractmethod
    def encode(self, outputs: np.ndarray, model: LoadedModel, rid: str, context: Any) -> bytes:
        """The response body for the model's outputs."""

    def check_path(self, scope: Scope) -> None:  # noqa: B027 - an optional hook
        """Refuse a request for another model name (OIP); nothing by default."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        start = time.perf_counter()
        rid = request_id(scope)
        headers = [(b"x-request-id", rid.encode())]
        status = 200
        code: str | None = None
        state.receiving += 1
        receiving = True
        inflight = state.metrics.inflight_child
        inflight.inc()
        routing = state.routing
        try:
            if routing is None or routing.paused:
                raise _not_ready(state, routing is not None)
            self.check_path(scope)
            fmt = check_content_type(scope, csv=self.accepts_csv)
            body = await read_body(
                receive, scope, routing.limits.max_body_bytes, state.body_timeout
            )
            model = routing.choose(scope)
            headers.extend(model.headers)
            if fmt == "csv":
                batch, context = self.decode_csv(body, model)
            else:
                batch, context = self.decode(codecs.loads(body), model, scope)
            rows = batch_rows(batch)
            state.receiving -= 1
            receiving = False
            outputs = await model.batcher.submit(batch, rows, rid, start)
            await send_json(send, 200, self.encode(outputs, model, rid, context), headers)
        except ClientGone:
            status, code = 499, "CLIENT_GONE"
            return
        except ModelwardError as exc:
            status, code = exc.http_status, exc.code
            await send_error(send, exc, headers)
            return
        except Exception as exc:  # a bug: answered, logged, counted; the server goes on
            log.exception("unexpected error answering %s", scope.get("path"))
            status, code = 500, "INTERNAL_ERROR"
            await send_json(
                send,
                500,
                error_body("INTERNAL_ERROR", f"unexpected server error: {type(exc).__name__}"),
                headers,
            )
            return
        finally:
            if receiving:
                state.receiving -= 1
            inflight.dec()
            state.metrics.observe_request(self.endpoint, status, time.perf_counter() - start, code)
        shadow = routing.shadow
        if shadow is not None:
            self._mirror(shadow, model, batch, body, scope, rid, start)

    def _mirror(
        self,
        shadow: LoadedModel,
        model: LoadedModel,
        batch: Batch,
        body: bytes,
        scope: Scope,
        rid: str,
        start: float,
    ) -> None:
        state = self.state
        if not shadow.spec.same_as(model.spec):
            try:  # the shadow takes other inputs: check the request against its signature
                batch = self.decode(codecs.loads(body), shadow, scope)[0]
            except Exception:
                state.metrics.shadow.labels(state.name, "invalid").inc()
                return
        state.mirror(shadow, batch, rid, start)


def _not_ready(state: ServingState, paused: bool) -> Unavailable:
    if paused:
        return Unavailable(
            f"deployment {state.name!r} is paused; resume it with: modelward deploy update "
            f"{state.name} --resume",
            details={"deployment": state.name},
        )
    why = f" ({state.last_error})" if state.last_error else ""
    return Unavailable(
        f"deployment {state.name!r} is not ready: its model is still loading{why}; "
        "retry shortly (GET /v2/health/ready says when)",
        details={"deployment": state.name},
    )
