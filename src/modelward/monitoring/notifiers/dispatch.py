"""Deliver notifications on a background thread, retrying with exponential backoff.

A monitor run only *queues* notifications (one quick insert of a ``pending`` record each), so
a slow or dead endpoint never blocks monitoring. One worker thread delivers them in order:
each attempt is bounded by the notifier's ``timeout``; failures are retried by tenacity with
exponential backoff (``backoff``, doubling, at most ``max_backoff``) up to ``attempts``
attempts. Every attempt updates the record (``attempts``, ``last_error``); it ends ``sent``
or ``failed``. The queue is bounded (``max_queue``): beyond it a notification is recorded as
failed at once rather than waited for.

:meth:`Dispatcher.flush` waits (bounded) for the queue to drain: a short-lived
``modelward monitor run`` calls it before exiting so its notifications are not lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelward.entities import now_ms
from modelward.entities.monitoring import Notification, NotificationStatus
from modelward.errors import ModelwardError

if TYPE_CHECKING:
    from modelward.monitoring.notifiers.base import Notifier
    from modelward.monitoring.spec import NotifierSpec
    from modelward.store.metadata.base import MetadataStore

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)


class _Stopping(Exception):
    """Raised from a backoff sleep when the dispatcher shuts down."""


@dataclass
class _Job:
    record: Notification
    notifier: Notifier
    payload: Mapping[str, Any]
    attempts: int
    backoff: float
    max_backoff: float


class Dispatcher:
    """The background delivery queue.

    Args:
        store: Where notification records live.
        secrets: Environment variables notifiers may read (``url_env``, ``password_env``),
            passed in by the entry point.
        max_queue: Most notifications waiting.
        clock: Current time in ms.
    """

    def __init__(
        self,
        store: MetadataStore,
        *,
        secrets: Mapping[str, str] | None = None,
        max_queue: int = 1000,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.secrets: Mapping[str, str] = secrets or {}
        self.clock = clock
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(
        self, record: Notification, config: NotifierSpec | None, payload: Mapping[str, Any]
    ) -> None:
        """Queue a stored ``pending`` notification for delivery (never blocks)."""
        from modelward.monitoring.notifiers.base import build_notifier

        try:
            notifier = build_notifier(config, self.secrets)
        except ModelwardError as exc:
            self._finish(record, NotificationStatus.FAILED, 0, str(exc))
            return
        job = _Job(
            record,
            notifier,
            payload,
            attempts=config.attempts if config is not None else 1,
            backoff=config.backoff if config is not None else 0.0,
            max_backoff=config.max_backoff if config is not None else 0.0,
        )
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self._finish(record, NotificationStatus.FAILED, 0, "notification queue full; dropped")
            return
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="modelward-notifier", daemon=True
                )
                self._thread.start()

    def pending(self) -> int:
        """Notifications queued or being delivered."""
        return self._queue.unfinished_tasks

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued notification is delivered or failed; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the thread.

        Notifications still retrying at the deadline get their remaining attempts without
        waiting, then are recorded as failed.
        """
        done = self.flush(timeout)
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
            thread.join(5.0 if done else 1.0)
        self._thread = None

    # -- worker ----------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            try:
                if job is None:
                    return
                self._deliver(job)
            except Exception:  # pragma: no cover - a bug must not kill the delivery thread
                log.exception("notification delivery crashed")
            finally:
                self._queue.task_done()

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopping

    def _deliver(self, job: _Job) -> None:
        from tenacity import Retrying, stop_after_attempt, wait_exponential

        record = job.record
        attempts = 0
        last_error: str | None = None
        retrying = Retrying(
            stop=stop_after_attempt(job.attempts),
            wait=wait_exponential(multiplier=job.backoff, min=job.backoff, max=job.max_backoff),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    try:
                        job.notifier.send(job.payload)
                    except Exception as exc:
                        last_error = f"{type(exc).__name__}: {exc}"[:2000]
                        log.warning(
                            "notification %d via %s failed (attempt %d/%d): %s",
                            record.id,
                            record.notifier,
                            attempts,
                            job.attempts,
                            last_error,
                        )
                        self._update(record, NotificationStatus.PENDING, attempts, last_error)
                        raise
        except _Stopping:
            self._finish(
                record,
                NotificationStatus.FAILED,
                attempts,
                f"{last_error} (stopped before the next attempt)",
            )
            return
        except Exception:
            self._finish(record, NotificationStatus.FAILED, attempts, last_error)
            return
        self._finish(record, NotificationStatus.SENT, attempts, None)

    def _update(
        self, record: Notification, status: NotificationStatus, attempts: int, error: str | None
    ) -> None:
        try:
            self.store.update_notification(
                dataclasses.replace(
                    record,
                    status=status,
                    attempts=attempts,
                    last_error=error,
                    updated_at=self.clock(),
                )
            )
        except ModelwardError as exc:  # the store being down must not stop delivery
            log.warning("cannot record notification %d: %s", record.id, exc)

    def _finish(
        self, record: Notification, status: NotificationStatus, attempts: int, error: str | None
    ) -> None:
        now = self.clock()
        try:
            self.store.update_notification(
                dataclasses.replace(
                    record,
                    status=status,
                    attempts=attempts,
                    last_error=error,
                    updated_at=now,
                    sent_at=now if status is NotificationStatus.SENT else None,
                )
            )
        except ModelwardError as exc:
            log.warning("cannot record notification %d: %s", record.id, exc)
