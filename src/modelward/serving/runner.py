"""Build a serving app from a client and run it on uvicorn (uvloop + httptools).

``SIGTERM`` (or Ctrl-C) stops accepting connections, lets in-flight requests finish (up to
``graceful_timeout`` seconds), then flushes the prediction log before the process exits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelward.entities.deployments import Batching, Limits, ModelTarget

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from modelward.client import Client
    from modelward.serving.state import ServingState

__all__ = ["ServeOptions", "build_app", "run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How ``modelward serve`` serves.

    Attributes:
        target: A deployment name, or ``models:/NAME@ALIAS`` / ``models:/NAME/VERSION``.
        host: Address to bind (loopback by default).
        port: TCP port.
        workers: Worker processes (each loads the model and batches on its own).
        poll_interval: Seconds between checks of the deployment and its aliases.
        batching: Overrides the deployment's batching (``None``: the record's).
        limits: Limits when serving a model URI (a deployment has its own).
        backend: ``auto`` (ONNX when a verified export exists), ``native`` or ``onnx``.
        prediction_log: Write the prediction log.
        trust: Allow loading models that can run code (pickle, custom code).
        graceful_timeout: Seconds in-flight requests get to finish at shutdown.
        body_timeout: Seconds a client has to send its request body.
    """

    target: str
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    poll_interval: float = 1.0
    batching: Batching | None = None
    limits: Limits = field(default_factory=Limits)
    backend: str = "auto"
    prediction_log: bool = True
    trust: bool = False
    graceful_timeout: float = 30.0
    body_timeout: float = 30.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (passed to worker processes)."""
        return {
            "target": self.target,
            "host": self.host,
            "port": self.port,
            "workers": self.workers,
            "poll_interval": self.poll_interval,
            "batching": None if self.batching is None else self.batching.to_dict(),
            "limits": self.limits.to_dict(),
            "backend": self.backend,
            "prediction_log": self.prediction_log,
            "trust": self.trust,
            "graceful_timeout": self.graceful_timeout,
            "body_timeout": self.body_timeout,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServeOptions:
        """Inverse of :meth:`to_dict`."""
        batching = data.get("batching")
        return cls(
            **{
                **data,
                "batching": None if batching is None else Batching(**batching),
                "limits": Limits(**data["limits"]),
            }
        )


def build_state(client: Client, options: ServeOptions) -> ServingState:
    """The serving state for ``options.target`` over ``client``'s stores."""
    from modelward.deployments.predictions import predictions_scope
    from modelward.serving.metrics import ServingMetrics
    from modelward.serving.predlog import PredictionLogWriter
    from modelward.serving.sources import DeploymentSource, ModelSource, Source
    from modelward.serving.state import ServingState

    source: Source
    if options.target.startswith("models:/"):
        target = ModelTarget.parse(options.target)
        source = ModelSource(
            target,
            client.deployments.resolve_target,
            batching=options.batching,
            limits=options.limits,
        )
    else:
        source = DeploymentSource(client.deployments, options.target, batching=options.batching)
    metrics = ServingMetrics(source.name)
    predlog = None
    if options.prediction_log:
        scope = predictions_scope(source.name)
        predlog = PredictionLogWriter(
            source.name,
            lambda path, data: client.artifacts.log_bytes(scope, data, path),
            metrics=metrics,
        )

    def load(name: str, version: int) -> Any:
        return client.models.load_model(
            f"models:/{name}/{version}",
            backend=options.backend,  # type: ignore[arg-type]  # checked by the CLI's Choice
            trust=options.trust,
        )

    return ServingState(
        source,
        load,
        predlog=predlog,
        metrics=metrics,
        poll_interval=options.poll_interval,
        body_timeout=options.body_timeout,
    )


def build_app(client: Client, options: ServeOptions) -> Starlette:
    """The ASGI app serving ``options.target``."""
    from modelward.serving.app import create_app

    state = build_state(client, options)
    return create_app(state, feedback=client.deployments.add_feedback)


def uvicorn_config(
    app: Any, options: ServeOptions, *, factory: bool = False, log_level: str = "warning"
) -> Any:
    """A uvicorn config with the fast loop and parser (falling back when absent)."""
    import importlib.util

    import uvicorn

    fast = importlib.util.find_spec("uvloop") is not None
    parser = importlib.util.find_spec("httptools") is not None
    return uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        workers=options.workers if options.workers > 1 else None,
        loop="uvloop" if fast else "asyncio",
        http="httptools" if parser else "h11",
        lifespan="on",
        access_log=False,
        log_level=log_level,
        timeout_graceful_shutdown=int(options.graceful_timeout),
        timeout_keep_alive=30,
        factory=factory,
        # Loopback by default and no client address is used: skip the per-request header scan.
        proxy_headers=False,
        server_header=False,
    )


def run(client: Client, options: ServeOptions, *, log_level: str = "warning") -> None:
    """Serve in this process until SIGTERM or Ctrl-C (one worker)."""
    import uvicorn

    app = build_app(client, options)
    uvicorn.Server(uvicorn_config(app, options, log_level=log_level)).run()
