"""Adaptive micro-batching: merge concurrent requests into one model call, split the result.

No fixed timer. A request is queued and the queue is drained on the event loop's next turn,
so everything that arrived in the same turn is merged; while the model runs, new requests
queue up and form the next batch. A lone request therefore waits for nothing, and the batch
size grows with the load by itself (``docs/serving.md``). A batch waits (at most
``max_wait_ms``) only when waiting pays: requests are known to be arriving, or the model call
is expensive and the recent calls merged several requests, in which case it waits until as
many requests as the recent calls had are queued.

Small batches are predicted inline on the event loop (a thread hop costs more than a model
call on a few rows); batches over ``inline_rows`` go to the model's own worker thread so the
loop keeps answering. One model call runs at a time per model. A request larger than
``max_batch_size`` is predicted alone, in chunks of ``max_batch_size`` rows.

When a merged call fails, each request in it is retried alone, so one bad request cannot fail
the others; its own error goes back to it only.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from modelward.errors import ModelFailed, ModelwardError
from modelward.serving.validation import Batch, concat, take

__all__ = ["BatchItem", "Batcher"]

log = logging.getLogger(__name__)

#: A model call slower than this (seconds, moving average) is worth waiting for company.
_EXPENSIVE_CALL = 0.00025

#: ``(items, merged batch, outputs, finished at (perf_counter))`` after each successful call.
OnBatch = Callable[[list["BatchItem"], Batch, np.ndarray, float], None]


class BatchItem:
    """One request waiting in a batcher."""

    __slots__ = ("batch", "future", "request_id", "rows", "start")

    def __init__(
        self,
        batch: Batch,
        rows: int,
        future: asyncio.Future[np.ndarray] | None,
        request_id: str,
        start: float,
    ) -> None:
        self.batch = batch
        self.rows = rows
        self.future = future
        self.request_id = request_id
        self.start = start


class Batcher:
    """Queue requests for one loaded model and predict them in merged calls.

    Args:
        predict: Predicts one batch (the model's fast path); may raise.
        describe: How to name the model in error messages (``iris v3``).
        max_batch_size: Most rows per model call.
        max_wait_ms: Longest wait for requests still arriving (see the module docstring).
        receiving: Number of requests whose bodies are being received right now.
        on_batch: Called after each successful call (metrics, prediction log).
        inline_rows: Batches up to this many rows are predicted on the event loop.
        max_queue_rows: For fire-and-forget use (shadow traffic): rows queued beyond this are
            dropped (``None``: unbounded; callers of :meth:`submit` are bounded by the server).
        always_thread: Predict every batch in the worker thread (shadow traffic).
        on_error: Told of errors of requests nobody awaits (shadow traffic).
    """

    def __init__(
        self,
        predict: Callable[[Batch], Any],
        *,
        describe: str,
        max_batch_size: int = 64,
        max_wait_ms: float = 2.0,
        receiving: Callable[[], int] = lambda: 0,
        on_batch: OnBatch | None = None,
        inline_rows: int = 512,
        max_queue_rows: int | None = None,
        always_thread: bool = False,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._predict = predict
        self.describe = describe
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self._receiving = receiving
        self._on_batch = on_batch
        self._on_error = on_error
        self._inline_rows = 0 if always_thread else inline_rows
        self._max_queue_rows = max_queue_rows
        self._queue: collections.deque[BatchItem] = collections.deque()
        self._queued_rows = 0
        self._scheduled = False
        self._busy = False
        self._wait_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._target = 1
        # What the last calls looked like: requests per call, seconds per call (EWMAs).
        self._expect = 1.0
        self._call_cost = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._idle: asyncio.Event | None = None
        self.dropped = 0

    # -- public --------------------------------------------------------------------------------
    def submit(
        self, batch: Batch, rows: int, request_id: str, start: float
    ) -> asyncio.Future[np.ndarray]:
        """Queue a checked batch; the future gets its predictions (or the model's error)."""
        loop = self._loop or self._bind()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._queue.append(BatchItem(batch, rows, future, request_id, start))
        self._queued_rows += rows
        self._wake(loop)
        return future

    def offer(self, batch: Batch, rows: int, request_id: str, start: float) -> bool:
        """Queue a batch whose result nobody awaits (shadow traffic); False if dropped."""
        if self._max_queue_rows is not None and self._queued_rows + rows > self._max_queue_rows:
            self.dropped += 1
            return False
        loop = self._loop or self._bind()
        self._queue.append(BatchItem(batch, rows, None, request_id, start))
        self._queued_rows += rows
        self._wake(loop)
        return True

    @property
    def queued_rows(self) -> int:
        """Rows waiting for a model call."""
        return self._queued_rows

    @property
    def idle(self) -> bool:
        """Nothing queued and no call running."""
        return not self._queue and not self._busy

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued request is answered (for draining an old version)."""
        deadline = time.monotonic() + timeout
        while not self.idle:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def close(self) -> None:
        """Release the worker thread (after :meth:`wait_idle`)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    # -- internals -----------------------------------------------------------------------------
    def _bind(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.get_running_loop()
        return self._loop

    def _wake(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            if len(self._queue) < self._target and self._queued_rows < self.max_batch_size:
                return  # still waiting for the batch it expects
            self._timer.cancel()
            self._timer = None
        if not self._scheduled and not self._busy:
            self._scheduled = True
            loop.call_soon(self._drain)

    def _timer_fired(self) -> None:
        self._timer = None
        self._drain()

    def _should_wait(self) -> float:
        """Seconds to wait for more requests before calling the model (0: call now).

        Wait only when it pays: requests are known to be arriving (bodies still coming in), or
        the model call is expensive and the last calls merged several requests (closed-loop
        clients send their next request right after their reply). A lone client never waits.
        """
        if self.max_wait <= 0 or self._queued_rows >= self.max_batch_size:
            return 0.0
        now = time.perf_counter()
        if self._wait_since is None:
            self._wait_since = now
        left = self.max_wait - (now - self._wait_since)
        if left <= 0:
            return 0.0
        if self._receiving():
            return min(left, 0.0005)
        self._target = int(self._expect + 0.5)
        if self._call_cost >= _EXPENSIVE_CALL and len(self._queue) < self._target:
            return left
        return 0.0

    def _schedule(self) -> None:
        if self._queue and not self._scheduled and not self._busy:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._drain)

    def _take(self) -> list[BatchItem]:
        first = self._queue.popleft()
        items = [first]
        rows = first.rows
        if rows < self.max_batch_size:
            queue = self._queue
            while queue and rows + queue[0].rows <= self.max_batch_size:
                item = queue.popleft()
                rows += item.rows
                items.append(item)
        self._queued_rows -= rows
        return items

    def _drain(self) -> None:
        self._scheduled = False
        if self._busy or not self._queue or self._timer is not None:
            return
        wait = self._should_wait()
        if wait > 0:
            assert self._loop is not None
            self._timer = self._loop.call_later(wait, self._timer_fired)
            return
        self._wait_since = None
        items = self._take()
        self._expect = 0.7 * self._expect + 0.3 * len(items)
        rows = sum(i.rows for i in items)
        if rows <= self._inline_rows:
            self._finish(items, *self._run(items))
            self._schedule()
            return
        self._busy = True
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix=f"modelward-model-{self.describe}"
            )
        assert self._loop is not None
        future = self._loop.run_in_executor(self._executor, self._run, items)
        future.add_done_callback(lambda f: self._threaded_done(items, f))

    def _threaded_done(self, items: list[BatchItem], future: asyncio.Future[Any]) -> None:
        self._busy = False
        try:
            merged, outputs, errors = future.result()
        except BaseException as exc:  # pragma: no cover - _run catches model errors
            merged, outputs, errors = None, None, [exc] * len(items)
        self._finish(items, merged, outputs, errors)
        self._schedule()

    def _call(self, batch: Batch, rows: int) -> np.ndarray:
        """One model call (chunked past max_batch_size), checked for the right row count."""
        started = time.perf_counter()
        try:
            return self._call_checked(batch, rows)
        finally:
            self._call_cost = 0.8 * self._call_cost + 0.2 * (time.perf_counter() - started)

    def _call_checked(self, batch: Batch, rows: int) -> np.ndarray:
        if rows > self.max_batch_size:
            size = self.max_batch_size
            parts = [
                np.asarray(self._predict(take(batch, s, min(s + size, rows))))
                for s in range(0, rows, size)
            ]
            out = np.concatenate(parts)
        else:
            out = np.asarray(self._predict(batch))
        if out.ndim == 0 or out.shape[0] != rows:
            raise ModelFailed(
                f"model {self.describe} returned {0 if out.ndim == 0 else out.shape[0]} "
                f"predictions for {rows} rows",
                details={"model": self.describe, "rows": rows},
            )
        return out

    def _run(
        self, items: list[BatchItem]
    ) -> tuple[Batch | None, np.ndarray | None, list[BaseException | None]]:
        """Predict the items together; on failure, alone. Never raises."""
        rows = sum(i.rows for i in items)
        merged = concat([i.batch for i in items])
        try:
            return merged, self._call(merged, rows), [None] * len(items)
        except Exception as exc:
            if len(items) == 1:
                return None, None, [self._translate(exc)]
        # Retry one by one: only the request at fault gets the error.
        outputs: list[np.ndarray] = []
        errors: list[BaseException | None] = []
        for item in items:
            try:
                outputs.append(self._call(item.batch, item.rows))
                errors.append(None)
            except Exception as exc:
                errors.append(self._translate(exc))
        if all(e is None for e in errors):  # pragma: no cover - a flaky model: retries passed
            return merged, np.concatenate(outputs), errors
        return None, _Partial(outputs, errors), errors  # type: ignore[return-value]

    def _translate(self, exc: Exception) -> BaseException:
        if isinstance(exc, ModelwardError) and exc.http_status < 500:
            return exc
        if isinstance(exc, ModelFailed):
            return exc
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        log.warning("model %s failed: %s: %s", self.describe, type(exc).__name__, message)
        return ModelFailed(
            f"model {self.describe} failed on this input: {type(exc).__name__}: {message}",
            details={"model": self.describe, "error": type(exc).__name__, "message": message},
        )

    def _finish(
        self,
        items: list[BatchItem],
        merged: Batch | None,
        outputs: np.ndarray | _Partial | None,
        errors: list[BaseException | None],
    ) -> None:
        done = time.perf_counter()
        if isinstance(outputs, np.ndarray):
            start = 0
            for item in items:
                stop = start + item.rows
                if item.future is not None and not item.future.done():
                    item.future.set_result(outputs[start:stop])
                start = stop
            if self._on_batch is not None and merged is not None:
                try:
                    self._on_batch(items, merged, outputs, done)
                except Exception:  # pragma: no cover - observers must not fail requests
                    log.exception("prediction observer failed")
            return
        partial = outputs if isinstance(outputs, _Partial) else None
        good: list[BatchItem] = []
        good_out: list[np.ndarray] = []
        for i, (item, error) in enumerate(zip(items, errors, strict=True)):
            if error is None and partial is not None:
                good.append(item)
                good_out.append(partial.outputs[i])
                if item.future is not None and not item.future.done():
                    item.future.set_result(partial.outputs[i])
            elif item.future is not None:
                if not item.future.done():
                    item.future.set_exception(error or ModelFailed(f"model {self.describe} failed"))
            elif self._on_error is not None and error is not None:
                self._on_error(error)
        if good and self._on_batch is not None:
            try:
                self._on_batch(
                    good, concat([g.batch for g in good]), np.concatenate(good_out), done
                )
            except Exception:  # pragma: no cover - observers must not fail requests
                log.exception("prediction observer failed")


class _Partial:
    """Per-item results of a retried batch (outputs align with items where error is None)."""

    __slots__ = ("errors", "outputs")

    def __init__(self, outputs: list[np.ndarray], errors: list[BaseException | None]) -> None:
        # outputs holds one entry per *successful* item; re-align to item positions.
        it = iter(outputs)
        self.outputs: list[Any] = [None if error is not None else next(it) for error in errors]
        self.errors = errors
