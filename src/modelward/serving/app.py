"""The serving ASGI app: Starlette routing, raw ASGI prediction endpoints, JSON errors everywhere.

Endpoints (``docs/serving.md`` has examples):

==========================================  ===================================================
``POST /predict``                           a JSON list of records
``POST /invocations``                       MLflow scoring protocol (JSON or CSV)
``POST /v2/models/{name}/infer``            Open Inference Protocol v2
``GET  /v2/health/live``, ``/v2/health/ready``, ``/v2``, ``/v2/models/{name}[/ready]``
``POST /v2/models/{name}/feedback``         ground-truth labels by request id
``GET  /metrics``                           Prometheus
``GET  /ping``, ``/health``                 MLflow-style health checks
==========================================  ===================================================
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modelward._version import __version__
from modelward.errors import InvalidInput, ModelwardError, NotFound, Unavailable
from modelward.serving import codecs
from modelward.serving.http import read_body
from modelward.serving.routes.mlflow import InvocationsEndpoint
from modelward.serving.routes.oip import InferEndpoint
from modelward.serving.routes.predict import RecordsEndpoint
from modelward.serving.state import ServingState

__all__ = ["FeedbackSink", "create_app"]

log = logging.getLogger(__name__)

#: Stores labels: ``(deployment, [(request_id, label), ...]) -> count`` (runs in a thread).
FeedbackSink = Callable[[str, Sequence[tuple[str, Any]]], int]

_MAX_FEEDBACK_BYTES = 16 * 1024 * 1024


def _error(exc: ModelwardError) -> JSONResponse:
    return JSONResponse(exc.to_dict(), status_code=exc.http_status)


def create_app(state: ServingState, *, feedback: FeedbackSink | None = None) -> Starlette:
    """Build the app serving ``state``.

    Args:
        state: What to serve (started and stopped with the app's lifespan).
        feedback: Where ``POST /v2/models/{name}/feedback`` stores labels (``None``: 501).
    """
    name = state.name

    async def live(request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(request: Request) -> Response:
        if state.ready:
            return JSONResponse({"ready": True})
        return JSONResponse(
            {
                "ready": False,
                "error": {
                    "code": "UNAVAILABLE",
                    "message": state.last_error or "loading",
                    "details": {},
                },
            },
            status_code=503,
        )

    async def server_metadata(request: Request) -> Response:
        return JSONResponse(
            {"name": "modelward", "version": __version__, "extensions": ["feedback"]}
        )

    def _check_name(request: Request) -> None:
        asked = request.path_params["name"]
        if asked != name:
            raise ModelNotHere(asked, name)

    async def model_metadata(request: Request) -> Response:
        _check_name(request)
        routing = state.routing
        if routing is None:
            return _error(Unavailable(f"deployment {name!r} is still loading its model"))
        champion = routing.champion
        versions = sorted({m.version_text for m in routing.models() if m.role != "shadow"})
        body: dict[str, Any] = {
            "name": name,
            "versions": versions,
            "platform": getattr(champion.predictor, "flavor", "modelward"),
            **champion.metadata(),
            "parameters": {
                "model": champion.name,
                "version": champion.version,
                "canary": None
                if routing.canary is None
                else {
                    "model": routing.canary.name,
                    "version": routing.canary.version,
                    "percent": routing.canary_percent,
                },
                "shadow": None
                if routing.shadow is None
                else {"model": routing.shadow.name, "version": routing.shadow.version},
            },
        }
        version = request.path_params.get("version")
        if version is not None and version not in versions:
            return _error(ModelNotHere(f"{name}/{version}", name))
        return JSONResponse(body)

    async def model_ready(request: Request) -> Response:
        _check_name(request)
        return await ready(request)

    async def metrics(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def post_feedback(request: Request) -> Response:
        _check_name(request)
        if feedback is None:
            return _error(Unavailable("this server was started without a store for feedback"))
        body = await read_body(
            request.receive, request.scope, _MAX_FEEDBACK_BYTES, state.body_timeout
        )
        pairs = _feedback_pairs(codecs.loads(body))
        from starlette.concurrency import run_in_threadpool

        count = await run_in_threadpool(feedback, name, pairs)
        return JSONResponse({"accepted": count})

    async def on_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ModelwardError):
            return _error(exc)
        if isinstance(exc, HTTPException):
            code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
            message = {
                404: f"no endpoint {request.url.path}; see docs/serving.md for the endpoints",
                405: f"{request.method} is not allowed on {request.url.path}",
            }.get(exc.status_code, str(exc.detail))
            return JSONResponse(
                {"error": {"code": code, "message": message, "details": {}}},
                status_code=exc.status_code,
                headers=exc.headers,
            )
        log.exception("unexpected error answering %s", request.url.path)
        return JSONResponse(
            {
                "error": {
                    "code": "INTERNAL_ERROR",
                    "message": f"unexpected server error: {type(exc).__name__}",
                    "details": {},
                }
            },
            status_code=500,
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            await state.stop()

    infer = InferEndpoint(state)
    routes = [
        # The hot endpoints first: Starlette matches routes in order.
        Route("/predict", RecordsEndpoint(state), methods=["POST"]),
        Route("/v2/models/{name}/infer", infer, methods=["POST"]),
        Route("/invocations", InvocationsEndpoint(state), methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", infer, methods=["POST"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/models/{name}", model_metadata, methods=["GET"]),
        Route("/v2/models/{name}/ready", model_ready, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", model_metadata, methods=["GET"]),
        Route("/v2/models/{name}/feedback", post_feedback, methods=["POST"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/ping", ready, methods=["GET"]),
        Route("/health", ready, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={Exception: on_error, HTTPException: on_error, ModelwardError: on_error},
    )
    app.state.serving = state
    return app


class ModelNotHere(NotFound):
    """A request named another model than the one served (404)."""

    def __init__(self, asked: str, served: str) -> None:
        super().__init__(
            f"no model {asked!r} here; this server serves {served!r}",
            details={"model": asked, "served": served},
        )


def _feedback_pairs(doc: Any) -> list[tuple[str, Any]]:
    items = doc.get("feedback", [doc]) if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not items:
        raise InvalidInput('send {"request_id": ID, "label": VALUE} or {"feedback": [{...}, ...]}')
    pairs: list[tuple[str, Any]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "request_id" not in item or "label" not in item:
            raise InvalidInput(
                f"feedback item {i} must be an object with 'request_id' and 'label'",
                details={"item": i},
            )
        pairs.append((item["request_id"], item["label"]))
    return pairs
