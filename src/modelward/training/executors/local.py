"""The local executor: a process pool on this machine with per-task admission.

Tasks run in a ``concurrent.futures.ProcessPoolExecutor`` started with the ``forkserver``
method (never a plain fork of a driver that has threads), whose server preloads the trial code
once so each worker starts in milliseconds. A task enters the pool only when its CPU, GPU and
memory requests fit beside those already running and a worker is free, so trials never
oversubscribe the machine; each caps its BLAS/OpenMP (and torch) thread pools at its CPUs.

A worker that dies mid-task (killed, out of memory, a crash in native code) breaks a process
pool. The executor then works out which task's worker died (each worker reports its pid when a
task starts; the others were terminated by the pool afterwards), marks that task FAILED with
the exit code, puts the innocent in-flight tasks back in the queue, and carries on with a fresh
pool.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelward._lazy import loaded_module
from modelward.errors import InvalidInput, NotFound
from modelward.training.devices import cpu_count
from modelward.training.executors.base import (
    Envelope,
    Executor,
    ObjectRef,
    Resources,
    TaskOutcome,
    TaskState,
    _Ledger,
    check_fits,
    format_exception,
    run_captured,
    set_progress_reporter,
)

__all__ = ["LocalExecutor"]

log = logging.getLogger(__name__)

#: Times a task may be requeued because another task's worker broke the pool.
_MAX_REQUEUES = 2

# -- worker side ------------------------------------------------------------------------------
_events: Any = None
_ref_cache: dict[str, Any] = {}


def _worker_init(events: Any, driver_pid: int) -> None:
    global _events
    _events = events
    # Never wait for the queue's feeder thread at exit: if another worker died while holding
    # the queue's write lock, waiting would keep this worker (and the pool's shutdown) stuck.
    events.cancel_join_thread()
    # Ctrl-C reaches the whole process group; only the driver decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_exit_with_driver, args=(driver_pid,), name="modelward-driver-watch", daemon=True
    ).start()


def _exit_with_driver(driver_pid: int) -> None:
    """End this worker when the driver is gone (killed before it could stop its pool).

    A worker's parent is the fork server, not the driver, and it holds both ends of the
    pool's call queue, so it would otherwise wait for work forever.
    """
    while True:
        time.sleep(1.0)
        try:
            os.kill(driver_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid was reused by another user's process
            os._exit(1)


_controller: Any = None


def _limit_threads(num_cpus: float) -> Any:
    """Cap BLAS/OpenMP (threadpoolctl) and torch threads at the task's CPUs, for its duration."""
    global _controller

    threads = max(1, int(num_cpus))
    torch: Any = loaded_module("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
            return contextlib.nullcontext()
        _controller = ThreadpoolController()  # finding the libraries once per worker
    return _controller.limit(limits=threads)


def _worker_main(task_id: str, fn: Callable[[Any], Any], arg: Any, num_cpus: float) -> Envelope:
    events = _events
    if events is not None:
        events.put((task_id, "start", os.getpid()))
        set_progress_reporter(lambda event: events.put((task_id, "progress", event)))
    try:
        with _limit_threads(num_cpus):
            return run_captured(fn, arg)
    finally:
        set_progress_reporter(None)


class LocalRef(ObjectRef):
    """A value written once to a file that workers read (and cache) on first use."""

    def __init__(self, path: str) -> None:
        self.path = path

    def get(self) -> Any:
        cached = _ref_cache.get(self.path)
        if cached is None:
            # Written by this executor's own driver a moment ago; never user-supplied bytes.
            cached = pickle.loads(Path(self.path).read_bytes())  # noqa: S301
            _ref_cache.clear()  # one shared dataset per worker at a time bounds memory
            _ref_cache[self.path] = cached
        return cached


# -- driver side ------------------------------------------------------------------------------
@contextlib.contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Start workers without re-running the driver's ``__main__`` script in them.

    ``spawn`` and ``forkserver`` workers normally execute the main script again (as
    ``__mp_main__``) so functions defined there can be unpickled; a script that calls
    ``mw.train`` without an ``if __name__ == "__main__":`` guard would then start training
    again in every worker. Tasks here are module-level functions by contract, so workers
    never need the script: its path is hidden while a worker starts (processes start
    synchronously inside ``submit``, in this thread).
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


@dataclass
class _Task:
    fn: Callable[[Any], Any]
    arg: Any
    resources: Resources
    state: TaskState = TaskState.PENDING
    future: Future[Envelope] | None = None
    outcome: TaskOutcome | None = None
    logs: str = ""
    pid: int | None = None
    requeues: int = 0
    reported: bool = False


class LocalExecutor(Executor):
    """Trials in worker processes on this machine.

    Args:
        workers: Most tasks at once (default: the CPU count).
        cpus: CPU cores the executor may use (default: all this process may use).
        gpus: GPUs (default: those PyTorch sees, counted only when a task asks for one).
        memory: Bytes of memory (default: what is available now).
        start_method: ``forkserver`` (default) or ``spawn``.
        preload: Modules the fork server imports once (default: the trial code).
    """

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        *,
        cpus: float | None = None,
        gpus: float | None = None,
        memory: int | None = None,
        start_method: str = "forkserver",
        preload: Sequence[str] = ("modelward.training.trial",),
    ) -> None:
        if workers is not None and workers < 1:
            raise InvalidInput(f"workers must be at least 1, not {workers}")
        if start_method not in {"forkserver", "spawn"}:
            raise InvalidInput(f"start_method must be forkserver or spawn, not {start_method!r}")
        self.workers = workers or cpu_count()
        self._cpus = float(cpus) if cpus is not None else float(cpu_count())
        self._gpus = gpus
        self._memory = memory
        self._start_method = start_method
        self._preload = list(preload)
        self._ctx: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self._events: Any = None
        self._tasks: dict[str, _Task] = {}
        self._queue: collections.deque[str] = collections.deque()
        self._ledger = _Ledger()
        self._progress: list[tuple[str, Any]] = []
        self._ids = itertools.count()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._closed = False

    def warm_up(self) -> None:
        """Start the fork server now, so it imports the trial code while the driver prepares.

        Optional: the first ``submit`` does it otherwise (and then waits for the imports).
        """
        if self._start_method != "forkserver" or self._ctx is not None:
            return
        import multiprocessing
        from multiprocessing import forkserver

        self._ctx = multiprocessing.get_context(self._start_method)
        if self._preload:
            self._ctx.set_forkserver_preload(self._preload)
        with _main_not_reimported():
            forkserver.ensure_running()

    # -- capacity ------------------------------------------------------------------------------
    @property
    def capacity(self) -> Resources:
        """What this executor may hand out in total (GPUs: 0 until a task asks for one)."""
        return self._capacity(Resources())

    def _capacity(self, wanted: Resources) -> Resources:
        # GPUs are counted through torch: only once some task asks for one.
        if self._gpus is None and wanted.num_gpus > 0:
            from modelward.training.devices import gpu_count

            self._gpus = float(gpu_count())
        if self._memory is None:
            import psutil

            self._memory = int(psutil.virtual_memory().available)
        return Resources(self._cpus, self._gpus or 0.0, self._memory)

    def slots(self, resources: Resources | None = None) -> int:
        r = resources or Resources()
        cap = self._capacity(r)
        fit = [self.workers, int(cap.num_cpus // r.num_cpus) if r.num_cpus else self.workers]
        if r.num_gpus:
            fit.append(int(cap.num_gpus // r.num_gpus))
        if r.memory and cap.memory:
            fit.append(int(cap.memory // r.memory))
        return max(0, min(fit))

    # -- pool ------------------------------------------------------------------------------
    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            if self._ctx is None:
                self._ctx = multiprocessing.get_context(self._start_method)
                if self._start_method == "forkserver" and self._preload:
                    self._ctx.set_forkserver_preload(self._preload)
            # A fresh event queue per pool: a worker killed while writing to the old one may
            # have left its lock held.
            self._close_events()
            self._events = self._ctx.Queue()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._ctx,
                initializer=_worker_init,
                initargs=(self._events, os.getpid()),
            )
        return self._pool

    def put(self, value: Any) -> ObjectRef:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="modelward-executor-")
        path = Path(self._tmp.name) / f"{uuid.uuid4().hex}.pkl"
        path.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return LocalRef(str(path))

    # -- contract ----------------------------------------------------------------------------
    def submit(self, fn: Callable[[Any], Any], arg: Any, resources: Resources | None = None) -> str:
        if self._closed:
            raise InvalidInput("this executor is closed; create a new one")
        r = resources or Resources()
        task_id = f"local-{next(self._ids)}"
        self._tasks[task_id] = _Task(fn, arg, r)
        try:
            check_fits(r, self._capacity(r), "this machine")
        except InvalidInput:
            del self._tasks[task_id]
            raise
        self._queue.append(task_id)
        self._dispatch()
        return task_id

    def _task(self, task_id: str) -> _Task:
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFound(f"no task {task_id!r} in this executor")
        return task

    def status(self, task_id: str) -> TaskState:
        self._drain_events()
        return self._task(task_id).state

    def logs(self, task_id: str) -> str:
        return self._task(task_id).logs

    def progress(self) -> list[tuple[str, Any]]:
        self._drain_events()
        out, self._progress = self._progress, []
        return out

    def _dispatch(self) -> None:
        capacity = self._capacity(Resources())
        while self._queue:
            task_id = self._queue[0]
            task = self._tasks[task_id]
            if not self._admissible(task.resources, capacity):
                break  # first come, first served: nothing overtakes a waiting task
            self._queue.popleft()
            pool = self._ensure_pool()
            try:
                with _main_not_reimported():
                    task.future = pool.submit(
                        _worker_main, task_id, task.fn, task.arg, task.resources.num_cpus
                    )
            except BrokenProcessPool:
                self._queue.appendleft(task_id)
                self._recover()
                continue
            self._ledger.add(task_id, task.resources)
            task.state = TaskState.RUNNING

    def _admissible(self, r: Resources, capacity: Resources) -> bool:
        if self._ledger.fits(r, capacity, self.workers):
            return True
        # One task waiting per worker hides the driver's round trip between tasks. Safe when
        # every task handed over is alike and ``workers`` of them fit: the pool's ``workers``
        # processes never run more than that at once.
        return (
            self._ledger.tasks < 2 * self.workers
            and all(m == r for m in self._ledger.members.values())
            and self.slots(r) >= self.workers
        )

    def _drain_events(self) -> None:
        if self._events is not None:
            self._drain_into(self._events)

    def _drain_into(self, events: Any) -> None:
        while True:
            try:
                task_id, kind, payload = events.get_nowait()
            except Exception:  # queue.Empty, or a queue broken by a dying worker
                return
            task = self._tasks.get(task_id)
            if task is None:
                continue
            if kind == "start":
                task.pid = int(payload)
            elif kind == "progress":
                self._progress.append((task_id, payload))

    def _finish(self, task_id: str, outcome: TaskOutcome, logs: str = "") -> None:
        task = self._tasks[task_id]
        task.state = outcome.state
        task.outcome = outcome
        task.logs = logs or (outcome.traceback or "")
        task.future = None
        self._ledger.remove(task_id)

    def _collect(self, task_id: str, future: Future[Envelope]) -> bool:
        """Record a done future; return False when the pool broke under it."""
        if future.cancelled():
            self._finish(task_id, TaskOutcome(task_id, TaskState.CANCELLED, error="cancelled"))
            return True
        exc = future.exception()
        if isinstance(exc, BrokenProcessPool):
            return False
        if exc is not None:
            line, text = format_exception(exc)
            self._finish(
                task_id, TaskOutcome(task_id, TaskState.FAILED, error=line, traceback=text), text
            )
        else:
            envelope = future.result()
            self._finish(
                task_id,
                TaskOutcome(task_id, TaskState.SUCCEEDED, value=envelope.value),
                envelope.logs,
            )
        return True

    def wait(
        self, task_ids: Sequence[str] | None = None, timeout: float | None = None
    ) -> list[TaskOutcome]:
        wanted = set(task_ids) if task_ids is not None else set(self._tasks)
        for task_id in wanted:
            self._task(task_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            ready = [
                t for t in sorted(wanted) if self._tasks[t].outcome and not self._tasks[t].reported
            ]
            if ready:
                for task_id in ready:
                    self._tasks[task_id].reported = True
                return [o for t in ready if (o := self._tasks[t].outcome) is not None]
            running: dict[Future[Envelope], str] = {
                future: t for t, task in self._tasks.items() if (future := task.future) is not None
            }
            if not any(not self._tasks[t].state.is_terminal for t in wanted):
                return []
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not running:
                self._dispatch()
                if not any(self._tasks[t].future is not None for t in self._tasks):
                    return []  # nothing can run (cannot happen: submit checks fit)
                continue
            # Wake up at least every second to forward progress events promptly.
            step = 1.0 if remaining is None else max(0.0, min(1.0, remaining))
            done, _ = wait_futures(list(running), timeout=step, return_when=FIRST_COMPLETED)
            self._drain_events()
            broken = False
            for future in done:
                if not self._collect(running[future], future):
                    broken = True
            if broken:
                self._recover()
            self._dispatch()
            if remaining is not None and remaining <= 0 and not done:
                return []

    # -- a worker died ---------------------------------------------------------------------
    def _recover(self) -> None:
        """Retire the current pool after a worker died; requeue the innocent tasks.

        Every worker is stopped before the pool is shut down: a worker started by a submit
        racing with the pool's own clean-up would otherwise be waited for forever.
        """
        pool = self._pool
        self._pool = None
        processes: dict[int, Any] = dict(getattr(pool, "_processes", None) or {})
        # Exit codes before we stop the others: the dead one's own code names the culprit.
        exit_codes = {pid: p.exitcode for pid, p in processes.items()}
        for process in processes.values():
            if process.exitcode is None:
                process.terminate()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._drain_events()
        in_flight = [t for t, task in self._tasks.items() if task.future is not None]
        culprits = [
            t
            for t in in_flight
            if (pid := self._tasks[t].pid) is not None
            and exit_codes.get(pid) not in (None, -signal.SIGTERM)
        ]
        for task_id in sorted(in_flight, reverse=True):
            task = self._tasks[task_id]
            if task_id in culprits or task.requeues >= _MAX_REQUEUES:
                code = exit_codes.get(task.pid) if task.pid is not None else None
                line = f"the worker process running this trial died ({_describe_exit(code)})"
                self._finish(task_id, TaskOutcome(task_id, TaskState.FAILED, error=line))
                log.warning("task %s: %s", task_id, line)
            else:
                # Collateral: its worker was stopped because another one died. Run it again.
                task.requeues += 1
                task.future = None
                task.pid = None
                task.state = TaskState.PENDING
                self._ledger.remove(task_id)
                self._queue.appendleft(task_id)

    def cancel(self, task_id: str) -> bool:
        task = self._task(task_id)
        if task.state.is_terminal:
            return False
        if task_id in self._queue:
            self._queue.remove(task_id)
            self._finish(task_id, TaskOutcome(task_id, TaskState.CANCELLED, error="cancelled"))
            return True
        if task.future is not None and task.future.cancel():
            self._finish(task_id, TaskOutcome(task_id, TaskState.CANCELLED, error="cancelled"))
            return True
        self._drain_events()
        # A running task can only be stopped with its worker. That breaks the pool, so it is
        # retired now (its other in-flight tasks run again in a fresh one); a task whose
        # worker has not reported yet is stopped with the whole pool.
        self._finish(task_id, TaskOutcome(task_id, TaskState.CANCELLED, error="cancelled"))
        if task.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(task.pid, signal.SIGKILL)
        self._recover()
        return True

    def _close_events(self) -> None:
        events, self._events = self._events, None
        if events is not None:
            self._drain_into(events)
            events.close()
            events.cancel_join_thread()

    def close(self, *, cancel: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            if cancel:
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
        for task_id, task in self._tasks.items():
            if not task.state.is_terminal:
                task.state = TaskState.CANCELLED
                task.outcome = TaskOutcome(task_id, TaskState.CANCELLED, error="executor closed")
        self._queue.clear()
        self._close_events()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
