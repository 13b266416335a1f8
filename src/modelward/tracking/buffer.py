"""Buffered, non-blocking metric logging.

``log_metric`` appends a tuple to an in-memory deque (a few hundred nanoseconds); a background
thread drains the deque every ``interval`` seconds, or sooner once ``high_water`` points are
waiting, and writes them in batches, each batch in one transaction. ``flush()`` drains
synchronously and re-raises the last write error, so data the caller flushed is durable or the
caller knows it is not.

Durability: a crash (``kill -9``) loses at most the points logged since the last completed
flush, i.e. about ``interval`` seconds of logging. Points are never dropped silently: when a write
fails they go back to the front of the queue and are retried with backoff; when the queue holds
``max_points`` the logger waits for a flush (back-pressure) instead of growing without bound.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence

from modelward.errors import NotFound
from modelward.store.metadata.tracking import MetricPoint

__all__ = ["MetricBuffer"]

log = logging.getLogger(__name__)

Sink = Callable[[Sequence[MetricPoint]], None]


class MetricBuffer:
    """A queue of metric points flushed to ``sink`` by a background thread.

    Args:
        sink: Writes a batch of points atomically (the metadata store's ``log_metrics``).
        interval: Seconds between background flushes.
        max_points: Queue length at which :meth:`append` blocks until a flush drains it.
        batch_size: Most points written per transaction.
        on_tick: Called from the background thread after each flush cycle (heartbeats).
    """

    def __init__(
        self,
        sink: Sink,
        *,
        interval: float = 1.0,
        max_points: int = 1_000_000,
        batch_size: int = 50_000,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        self._sink = sink
        self._interval = interval
        self._max_points = max_points
        # Wake the flusher early, but never later than the point where appends would block.
        self._high_water = min(max_points, max(1000, min(batch_size, max_points // 2)))
        self._batch_size = batch_size
        self._on_tick = on_tick
        self._queue: collections.deque[MetricPoint] = collections.deque()
        self._wake = threading.Event()
        self._drained = threading.Condition()
        self._write_lock = threading.Lock()
        self._stop = False
        self._error: BaseException | None = None
        self._failures = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # -- hot path -------------------------------------------------------------------------
    def append(self, point: MetricPoint) -> None:
        """Queue one point. Never performs I/O; waits only when the queue is full."""
        queue = self._queue
        queue.append(point)
        # The flusher must exist before we wait for it to make room.
        if self._thread is None:
            self._ensure_thread()
        n = len(queue)
        if n >= self._high_water:
            self._wake.set()
            if n >= self._max_points:
                self._wait_for_room()

    def extend(self, points: Sequence[MetricPoint]) -> None:
        """Queue several points."""
        self._queue.extend(points)
        if self._thread is None:
            self._ensure_thread()
        if len(self._queue) >= self._high_water:
            self._wake.set()
            if len(self._queue) >= self._max_points:
                self._wait_for_room()

    def __len__(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        """Start the background thread now (it also runs ``on_tick``) rather than on first use."""
        if self._thread is None:
            self._ensure_thread()

    # -- flushing -------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every queued point now; raise the write error if the store refused them."""
        self._drain(raise_errors=True)

    def flush_with(self, write: Sink) -> None:
        """Drain the queue, handing the last (possibly empty) batch to ``write``.

        The caller can so commit the last points together with its own change (ending a run).
        On failure the batch goes back to the queue and the error propagates.
        """
        with self._write_lock:
            while len(self._queue) >= self._batch_size:
                batch = self._take()
                try:
                    self._sink(batch)
                except BaseException:
                    self._requeue(batch)
                    raise
            batch = self._take()
            try:
                write(batch)
            except BaseException:
                self._requeue(batch)
                raise
            self._failures = 0
            self._error = None
        with self._drained:
            self._drained.notify_all()

    def close(self) -> None:
        """Flush what is queued and stop the background thread."""
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        self._drain(raise_errors=True)

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(
                    target=self._run, name="modelward-metric-flush", daemon=True
                )
                self._thread.start()

    def _wait_for_room(self) -> None:
        if threading.current_thread() is self._thread:
            return
        with self._drained:
            while len(self._queue) >= self._max_points and not self._stop:
                self._wake.set()
                self._drained.wait(timeout=self._interval)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(timeout=self._interval)
            self._wake.clear()
            try:
                self._drain(raise_errors=False)
            except Exception:  # pragma: no cover - a safety net: the flusher must not die
                log.exception("metric flush failed")
            if self._on_tick is not None:
                try:
                    self._on_tick()
                except Exception as exc:
                    log.warning("background tick failed: %s", exc)
            if self._failures:
                # Back off while the store refuses writes (locked, unreachable, disk full).
                time.sleep(min(30.0, self._interval * 2 ** min(self._failures, 5)))

    def _take(self) -> list[MetricPoint]:
        queue = self._queue
        batch: list[MetricPoint] = []
        pop = queue.popleft
        append = batch.append
        try:
            for _ in range(self._batch_size):
                append(pop())
        except IndexError:
            pass
        return batch

    def _requeue(self, batch: list[MetricPoint]) -> None:
        self._queue.extendleft(reversed(batch))

    def _drain(self, *, raise_errors: bool) -> None:
        dropped: NotFound | None = None
        with self._write_lock:
            while True:
                batch = self._take()
                if not batch:
                    break
                try:
                    self._sink(batch)
                except NotFound as exc:
                    # The run is gone (deleted store, unknown id): these points can never be
                    # written, so drop them loudly instead of retrying forever, and go on
                    # writing the other runs' points.
                    missing = set(exc.details.get("run_ids", []))
                    kept = [p for p in batch if p[0] not in missing]
                    if len(kept) == len(batch):
                        self._fail(batch, exc, raise_errors)
                        return
                    log.error(
                        "dropped %d metric points for unknown runs %s",
                        len(batch) - len(kept),
                        sorted(missing),
                    )
                    self._requeue(kept)
                    dropped = exc
                    continue
                except Exception as exc:
                    # Whatever the cause (store refusing, driver bug), keep the points.
                    self._fail(batch, exc, raise_errors)
                    return
                self._failures = 0
                self._error = None
            with self._drained:
                self._drained.notify_all()
        if dropped is not None and raise_errors:
            raise dropped

    def _fail(self, batch: list[MetricPoint], exc: BaseException, raise_errors: bool) -> None:
        self._requeue(batch)
        self._failures += 1
        self._error = exc
        log.warning("could not write %d metric points (will retry): %s", len(batch), exc)
        with self._drained:
            self._drained.notify_all()
        if raise_errors:
            raise exc
