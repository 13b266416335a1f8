"""The serving state: current routing, the watcher that hot-swaps it, and per-batch bookkeeping.

The watcher is a thread: it polls the source every ``poll_interval`` seconds, loads any new
version in the background (the event loop keeps answering with the old one), then installs a
new :class:`~modelward.serving.routing.Routing` on the loop in one assignment. Models no
longer routed to finish their queued requests before they are released. When the store cannot
be reached, or a new version fails to load, the loaded versions keep serving; the failure is
logged and counted, and the load is retried after ``retry_after`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from modelward.serving.batcher import Batcher, BatchItem
from modelward.serving.metrics import ServingMetrics
from modelward.serving.predlog import PredictionLogWriter
from modelward.serving.routing import LoadedModel, Routing, predict_function
from modelward.serving.sources import Source, Wanted
from modelward.serving.validation import Batch, InputSpec, batch_rows

__all__ = ["Loader", "ServingState"]

log = logging.getLogger(__name__)

#: ``(model name, version) -> predictor``.
Loader = Callable[[str, int], Any]


class ServingState:
    """Everything one serving app shares between requests.

    Args:
        source: What to serve.
        loader: Loads a model version.
        predlog: The prediction log writer (``None``: no log).
        poll_interval: Seconds between polls of the source.
        retry_after: Seconds before a version that failed to load is tried again.
        body_timeout: Seconds a client has to send a request body.
        inline_rows: Batches up to this many rows are predicted on the event loop.
        shadow_queue_rows: Rows of shadow traffic queued before more is dropped.
    """

    def __init__(
        self,
        source: Source,
        loader: Loader,
        *,
        predlog: PredictionLogWriter | None = None,
        metrics: ServingMetrics | None = None,
        poll_interval: float = 1.0,
        retry_after: float = 30.0,
        body_timeout: float = 30.0,
        inline_rows: int = 512,
        shadow_queue_rows: int = 10_000,
    ) -> None:
        self.name = source.name
        self.source = source
        self.loader = loader
        self.metrics = metrics or ServingMetrics(source.name)
        self.predlog = predlog
        self.poll_interval = poll_interval
        self.retry_after = retry_after
        self.body_timeout = body_timeout
        self.inline_rows = inline_rows
        self.shadow_queue_rows = shadow_queue_rows
        self.routing: Routing | None = None
        self.receiving = 0
        self.last_error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wanted: Wanted | None = None
        self._predictors: dict[tuple[str, int], Any] = {}
        self._failed: dict[tuple[str, int], float] = {}
        self._models: dict[tuple[Any, ...], LoadedModel] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        self._last_store_warning = 0.0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the watcher (first load at once) and the prediction log writer."""
        self._loop = asyncio.get_running_loop()
        if self.predlog is not None:
            self.predlog.start()
        self._thread = threading.Thread(target=self._watch, name="modelward-watcher", daemon=True)
        self._thread.start()

    async def stop(self, drain_timeout: float = 30.0) -> None:
        """Stop polling, let queued requests finish, flush the prediction log."""
        self._stop.set()
        routing = self.routing
        if routing is not None:
            for model in routing.models():
                await model.batcher.wait_idle(drain_timeout)
                model.batcher.close()
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10.0)
        if self.predlog is not None:
            await asyncio.to_thread(self.predlog.close)

    @property
    def ready(self) -> bool:
        """A model is loaded and the deployment is not paused."""
        return self.routing is not None and not self.routing.paused

    # -- watcher thread ------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # pragma: no cover - a bug; keep serving and keep polling
                log.exception("serving watcher failed; serving the loaded versions")
            self._stop.wait(self.poll_interval)

    def poll(self) -> bool:
        """Read the source once; load and install what changed. True if routing changed."""
        try:
            wanted = self.source.wanted()
        except Exception as exc:
            self.metrics.store_error_child.inc()
            self.last_error = f"{type(exc).__name__}: {exc}"
            now = time.monotonic()
            if now - self._last_store_warning > 60:
                self._last_store_warning = now
                log.warning(
                    "cannot read deployment %s (%s); serving the loaded versions", self.name, exc
                )
            return False
        if wanted == self._wanted:
            return False
        for key in wanted.versions():
            if key in self._predictors:
                continue
            failed_at = self._failed.get(key)
            if failed_at is not None and time.monotonic() - failed_at < self.retry_after:
                return False
            try:
                started = time.perf_counter()
                self._predictors[key] = self.loader(*key)
                log.info("loaded %s v%s in %.2f s", key[0], key[1], time.perf_counter() - started)
                self._failed.pop(key, None)
            except Exception as exc:
                self._failed[key] = time.monotonic()
                self.metrics.load_failures.labels(self.name, key[0], str(key[1])).inc()
                self.last_error = f"cannot load {key[0]} v{key[1]}: {type(exc).__name__}: {exc}"
                log.warning("%s; serving the loaded versions", self.last_error)
                return False
        routing = self._build(wanted)
        self._install_threadsafe(routing)
        self._wanted = wanted
        for key in list(self._predictors):
            if key not in wanted.versions():
                del self._predictors[key]
        self.last_error = None
        self.source.served(wanted)
        return True

    def _model(self, key: tuple[str, int], role: str, wanted: Wanted) -> LoadedModel:
        cache_key = (key, role, wanted.batching, wanted.limits)
        model = self._models.get(cache_key)
        if model is not None:
            return model
        predictor = self._predictors[key]
        spec = InputSpec(
            getattr(predictor, "signature", None),
            max_rows=wanted.limits.max_rows,
            allow_nan=wanted.limits.allow_nan,
        )
        holder: list[LoadedModel] = []
        shadow = role == "shadow"
        batcher = Batcher(
            predict_function(predictor, spec),
            describe=f"{key[0]} v{key[1]}",
            max_batch_size=wanted.batching.max_batch_size,
            max_wait_ms=wanted.batching.max_wait_ms,
            receiving=self._receiving,
            on_batch=lambda items, merged, out, done: self._on_batch(
                holder[0], items, merged, out, done
            ),
            inline_rows=self.inline_rows,
            max_queue_rows=self.shadow_queue_rows if shadow else None,
            always_thread=shadow,
            on_error=(lambda exc: self.metrics.shadow.labels(self.name, "error").inc())
            if shadow
            else None,
        )
        model = LoadedModel(key[0], key[1], role, predictor, spec, batcher)
        holder.append(model)
        self._models[cache_key] = model
        return model

    def _build(self, wanted: Wanted) -> Routing:
        champion = self._model(wanted.champion, "champion", wanted)
        canary = None if wanted.canary is None else self._model(wanted.canary, "canary", wanted)
        shadow = None if wanted.shadow is None else self._model(wanted.shadow, "shadow", wanted)
        return Routing(
            champion,
            canary=canary,
            canary_percent=wanted.canary_percent,
            sticky_header=wanted.sticky_header,
            shadow=shadow,
            revision=wanted.revision,
            paused=wanted.paused,
            limits=wanted.limits,
        )

    def _install_threadsafe(self, routing: Routing) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            self.install(routing)
            return
        done = threading.Event()

        def install() -> None:
            try:
                self.install(routing)
            finally:
                done.set()

        loop.call_soon_threadsafe(install)
        done.wait(10.0)

    # -- loop side -----------------------------------------------------------------------------
    def _receiving(self) -> int:
        return self.receiving

    def install(self, routing: Routing) -> None:
        """Switch to ``routing`` (on the event loop); retire models no longer used."""
        old = self.routing
        self.routing = routing
        live = {id(m) for m in routing.models()}
        if old is not None:
            if old.champion is not routing.champion:
                self.metrics.swaps.labels(self.name, "champion").inc()
            for model in old.models():
                if id(model) not in live:
                    self._retire(model)
        self._models = {k: m for k, m in self._models.items() if id(m) in live}
        self.metrics.set_models([(m.name, m.version_text, m.role) for m in routing.models()])

    def _retire(self, model: LoadedModel) -> None:
        async def retire() -> None:
            await model.batcher.wait_idle(60.0)
            model.batcher.close()

        try:
            task = asyncio.get_running_loop().create_task(retire())
        except RuntimeError:  # no loop (tests driving poll() directly)
            model.batcher.close()
            return
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _on_batch(
        self,
        model: LoadedModel,
        items: list[BatchItem],
        merged: Batch,
        outputs: np.ndarray,
        done: float,
    ) -> None:
        self.metrics.observe_batch(
            model.name, model.version_text, model.role, int(outputs.shape[0]), len(items), outputs
        )
        if self.predlog is not None:
            self.predlog.append(
                model.name,
                model.version,
                model.role,
                model.spec.names,
                merged,
                outputs,
                [i.request_id for i in items],
                [i.rows for i in items],
                [(done - i.start) * 1000.0 for i in items],
            )
        if model.role == "shadow":
            self.metrics.shadow.labels(self.name, "predicted").inc(len(items))

    def mirror(self, shadow: LoadedModel, batch: Batch, request_id: str, start: float) -> None:
        """Queue a copy of an answered request for the shadow model (never waits)."""
        if shadow.batcher.offer(batch, batch_rows(batch), request_id, start):
            self.metrics.shadow.labels(self.name, "queued").inc()
        else:
            self.metrics.shadow.labels(self.name, "dropped").inc()
