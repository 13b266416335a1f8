"""Serving test helpers: a Predictor-shaped double, app states, in-process and real servers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import numpy as np

from modelward.entities.deployments import Batching, Limits, ModelTarget
from modelward.entities.models import ColumnSpec, ModelSignature, SignatureKind
from modelward.serving.app import create_app
from modelward.serving.sources import ModelSource, Wanted
from modelward.serving.state import ServingState

FEATURES = ["a", "b", "c", "d"]


class Doubler:
    """Predicts ``version * (a + b + c + d)``; records every call's row count."""

    def __init__(self, version: int = 1, *, fail_on: float | None = None, delay: float = 0.0):
        self.version = version
        self.fail_on = fail_on
        self.delay = delay
        self.calls: list[int] = []
        self.signature = ModelSignature(
            tuple(ColumnSpec(n, "float64") for n in FEATURES),
            (ColumnSpec("prediction", "float64"),),
            SignatureKind.COLUMNS,
        )

    def predict_array(self, x: np.ndarray) -> np.ndarray:
        self.calls.append(int(x.shape[0]))
        if self.delay:
            time.sleep(self.delay)
        if self.fail_on is not None and np.any(x[:, 0] == self.fail_on):
            raise RuntimeError(f"cannot handle a={self.fail_on}")
        return x.sum(axis=1) * self.version

    def predict(self, data: Any) -> np.ndarray:
        if isinstance(data, dict):
            return self.predict_array(np.column_stack([data[n] for n in FEATURES]))
        return self.predict_array(np.asarray(data, dtype=float))


class FakeSource:
    """A source whose wanted state tests change at will (or make fail, like a dead store)."""

    def __init__(self, name: str = "svc", wanted: Wanted | None = None) -> None:
        self.name = name
        self.current = wanted or Wanted(("m", 1))
        self.down = False
        self.served_versions: list[int] = []

    def wanted(self) -> Wanted:
        if self.down:
            raise ConnectionError("store unreachable")
        return self.current

    def served(self, wanted: Wanted) -> None:
        self.served_versions.append(wanted.champion[1])


def record(i: float) -> dict[str, float]:
    return {"a": i, "b": 0.0, "c": 0.0, "d": 0.0}


def make_state(
    source: Any = None,
    loader: Callable[[str, int], Any] | None = None,
    *,
    predlog: Any = None,
    poll_interval: float = 0.05,
    body_timeout: float = 30.0,
    **kwargs: Any,
) -> ServingState:
    src = source or ModelSource(
        ModelTarget("m", "champion"), lambda t: 1, batching=Batching(), limits=Limits()
    )
    return ServingState(
        src,
        loader or (lambda name, version: Doubler(version)),
        predlog=predlog,
        poll_interval=poll_interval,
        body_timeout=body_timeout,
        **kwargs,
    )


@contextlib.asynccontextmanager
async def running(state: ServingState, **app_kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process (lifespan run), ready, with an httpx client bound to it."""
    app = create_app(state, **app_kwargs)
    async with app.router.lifespan_context(app):
        for _ in range(500):
            if state.ready:
                break
            await asyncio.sleep(0.01)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def real_server(state: ServingState, **app_kwargs: Any) -> Iterator[str]:
    """The app on a real uvicorn server (httptools, a thread of its own); yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        create_app(state, **app_kwargs),
        host="127.0.0.1",
        port=port,
        loop="asyncio",
        http="httptools",
        lifespan="on",
        log_level="error",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/v2/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    else:  # pragma: no cover - the server did not start
        server.should_exit = True
        raise RuntimeError("test server not ready")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(20)
