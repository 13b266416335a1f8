"""The Ray executor: each task is a Ray task with ``num_cpus``/``num_gpus``/``memory`` requests.

Ray does the scheduling, so tasks never oversubscribe a node; shared inputs go through Ray's
object store (:meth:`RayExecutor.put`). Tasks are not retried by Ray (``max_retries=0``): a
crashed worker marks its task FAILED, like the local executor. Ray errors are translated here
and only here.

Connecting to a cluster (``address="HOST:PORT"``) first opens a TCP connection to it with a
short timeout, so an unreachable cluster fails in seconds with a message naming the address
instead of Ray's long connection retries. Without an address, a Ray instance already started
in this process is used, else a local one is started on 127.0.0.1 (no dashboard) and shut down
with the executor.
"""

from __future__ import annotations

import itertools
import logging
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from modelward.errors import InvalidInput, MissingDependency, NotFound, Unavailable
from modelward.training.executors.base import (
    Envelope,
    Executor,
    ObjectRef,
    Resources,
    TaskOutcome,
    TaskState,
    check_fits,
    run_captured,
)

__all__ = ["RayExecutor", "probe_address"]

log = logging.getLogger(__name__)


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MissingDependency(
            "the ray executor needs Ray; install it with: pip install 'modelward[ray]'",
            details={"module": "ray", "extra": "ray"},
        ) from exc
    return ray


def probe_address(address: str, timeout: float) -> None:
    """Open (and close) a TCP connection to ``HOST:PORT``.

    Raises:
        InvalidInput: ``address`` is not ``HOST:PORT``.
        Unavailable: Nothing answers there within ``timeout`` seconds.
    """
    text = address.removeprefix("ray://")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InvalidInput(f"Ray address {address!r} is not HOST:PORT (e.g. 127.0.0.1:6379)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, TimeoutError | socket.timeout):
            reason = f"no answer within {timeout:g} s"
        raise Unavailable(
            f"cannot reach the Ray cluster at {address} ({reason}); start one with "
            f"`ray start --head --port {port}` or pass the right --address",
            details={"address": address},
        ) from None


def _ray_main(fn: Callable[[Any], Any], arg: Any, num_cpus: float) -> Envelope:
    from modelward.training.executors.local import _limit_threads

    with _limit_threads(num_cpus):
        return run_captured(fn, arg)


class RayRef(ObjectRef):
    """A value in Ray's object store."""

    def __init__(self, ref: Any) -> None:
        self.ref = ref

    def get(self) -> Any:
        return _ray().get(self.ref)


class RayExecutor(Executor):
    """Trials as Ray tasks, on a cluster or a local Ray instance.

    Args:
        address: ``HOST:PORT`` of a running cluster's head; ``None`` uses the Ray instance
            already started in this process or starts a local one.
        workers: CPUs of a local instance started here (default: all).
        connect_timeout: Seconds to wait for the cluster's address to answer.
        init_kwargs: More ``ray.init`` arguments.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        connect_timeout: float = 5.0,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        ray = _ray()
        self.address = address
        self._owns = False
        self._tasks: dict[str, Any] = {}  # id -> ObjectRef
        self._state: dict[str, TaskState] = {}
        self._outcomes: dict[str, TaskOutcome] = {}
        self._logs: dict[str, str] = {}
        self._reported: set[str] = set()
        self._resources: dict[str, Resources] = {}
        self._ids = itertools.count()
        self._remote: Any = None
        if address is not None:
            probe_address(address, connect_timeout)
        if ray.is_initialized():
            return
        kwargs: dict[str, Any] = {"log_to_driver": False, **(init_kwargs or {})}
        try:
            if address is not None:
                ray.init(address=address, **kwargs)
            else:
                kwargs.setdefault("include_dashboard", False)
                kwargs.setdefault("_node_ip_address", "127.0.0.1")
                if workers is not None:
                    kwargs.setdefault("num_cpus", workers)
                ray.init(**kwargs)
        except Exception as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise Unavailable(
                f"cannot connect to {where}: {type(exc).__name__}: {exc}",
                details={"address": address},
            ) from exc
        self._owns = True

    # -- capacity ---------------------------------------------------------------------------
    @property
    def capacity(self) -> Resources:
        """The cluster's total CPUs, GPUs and memory."""
        total = _ray().cluster_resources()
        return Resources(
            float(total.get("CPU", 0)), float(total.get("GPU", 0)), int(total.get("memory", 0))
        )

    def slots(self, resources: Resources | None = None) -> int:
        r = resources or Resources()
        cap = self.capacity
        fit = [int(cap.num_cpus // r.num_cpus) if r.num_cpus else 1]
        if r.num_gpus:
            fit.append(int(cap.num_gpus // r.num_gpus))
        if r.memory and cap.memory:
            fit.append(int(cap.memory // r.memory))
        return max(0, min(fit))

    def put(self, value: Any) -> ObjectRef:
        return RayRef(_ray().put(value))

    # -- contract ---------------------------------------------------------------------------
    def submit(self, fn: Callable[[Any], Any], arg: Any, resources: Resources | None = None) -> str:
        ray = _ray()
        r = resources or Resources()
        check_fits(
            r, self.capacity, f"the Ray cluster{f' at {self.address}' if self.address else ''}"
        )
        if self._remote is None:
            self._remote = ray.remote(max_retries=0)(_ray_main)
        options: dict[str, Any] = {"num_cpus": r.num_cpus, "num_gpus": r.num_gpus}
        if r.memory:
            options["memory"] = r.memory
        ref = self._remote.options(**options).remote(fn, arg, r.num_cpus)
        task_id = f"ray-{next(self._ids)}"
        self._tasks[task_id] = ref
        self._state[task_id] = TaskState.RUNNING
        self._resources[task_id] = r
        return task_id

    def _check(self, task_id: str) -> None:
        if task_id not in self._tasks:
            raise NotFound(f"no task {task_id!r} in this executor")

    def status(self, task_id: str) -> TaskState:
        self._check(task_id)
        if not self._state[task_id].is_terminal:
            ready, _ = _ray().wait([self._tasks[task_id]], timeout=0)
            if ready:
                self._resolve(task_id)
        return self._state[task_id]

    def logs(self, task_id: str) -> str:
        self._check(task_id)
        return self._logs.get(task_id, "")

    def _resolve(self, task_id: str) -> None:
        ray = _ray()
        exceptions = ray.exceptions
        try:
            envelope: Envelope = ray.get(self._tasks[task_id])
        except exceptions.TaskCancelledError:
            outcome = TaskOutcome(task_id, TaskState.CANCELLED, error="cancelled")
        except exceptions.RayTaskError as exc:
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            line = f"{type(cause).__name__}: {cause}".strip().splitlines()[0]
            outcome = TaskOutcome(task_id, TaskState.FAILED, error=line, traceback=str(exc))
            self._logs[task_id] = str(exc)
        except (exceptions.WorkerCrashedError, exceptions.OutOfMemoryError) as exc:
            line = f"the Ray worker running this trial died: {str(exc).splitlines()[0]}"
            outcome = TaskOutcome(task_id, TaskState.FAILED, error=line, traceback=str(exc))
        except exceptions.RayError as exc:
            line = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            outcome = TaskOutcome(task_id, TaskState.FAILED, error=line, traceback=str(exc))
        else:
            outcome = TaskOutcome(task_id, TaskState.SUCCEEDED, value=envelope.value)
            self._logs[task_id] = envelope.logs
        if self._state[task_id] is TaskState.CANCELLED:
            outcome = TaskOutcome(task_id, TaskState.CANCELLED, error="cancelled")
        self._state[task_id] = outcome.state
        self._outcomes[task_id] = outcome

    def wait(
        self, task_ids: Sequence[str] | None = None, timeout: float | None = None
    ) -> list[TaskOutcome]:
        ray = _ray()
        wanted = list(task_ids) if task_ids is not None else list(self._tasks)
        for task_id in wanted:
            self._check(task_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            ready = [t for t in wanted if t in self._outcomes and t not in self._reported]
            if ready:
                self._reported.update(ready)
                return [self._outcomes[t] for t in sorted(ready)]
            pending = [t for t in wanted if t not in self._outcomes]
            if not pending:
                return []
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            refs = [self._tasks[t] for t in pending]
            done, _ = ray.wait(refs, num_returns=1, timeout=remaining)
            if not done:
                return []
            more, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            finished = set(done) | set(more)
            for task_id in pending:
                if self._tasks[task_id] in finished:
                    self._resolve(task_id)

    def cancel(self, task_id: str) -> bool:
        self._check(task_id)
        if self._state[task_id].is_terminal:
            return False
        self._state[task_id] = TaskState.CANCELLED
        _ray().cancel(self._tasks[task_id], force=True)
        self._outcomes[task_id] = TaskOutcome(task_id, TaskState.CANCELLED, error="cancelled")
        return True

    def close(self, *, cancel: bool = True) -> None:
        ray = _ray()
        if cancel:
            for task_id, state in list(self._state.items()):
                if not state.is_terminal:
                    try:
                        self.cancel(task_id)
                    except Exception as exc:  # shutting down: best effort
                        log.debug("could not cancel %s: %s", task_id, exc)
        if self._owns and ray.is_initialized():
            ray.shutdown()
            self._owns = False
