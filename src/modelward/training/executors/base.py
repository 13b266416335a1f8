"""The executor contract: where trials run.

An :class:`Executor` runs picklable, module-level functions ``fn(arg)`` somewhere (worker
processes on this machine, Ray tasks on a cluster) within per-task resource requests, and
reports what happened to each. Every executor, ours or a plugin's, passes the same suite
(:mod:`modelward.testing.executor_contract`).

Task lifecycle::

    submit ─► PENDING ─► RUNNING ─► SUCCEEDED   (fn returned; its value in TaskOutcome.value)
                │           ├─────► FAILED      (fn raised, or its worker died; error + traceback)
                └───────────┴─────► CANCELLED   (cancel(), or the executor closed)

Inside a task, :func:`report_progress` sends small events (e.g. "fold 3 done") back to the
driver where the executor supports it (:meth:`Executor.progress` drains them); elsewhere it
does nothing. What the task logged or warned is returned with its outcome (:meth:`logs`).
"""

from __future__ import annotations

import abc
import enum
import io
import logging
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = [
    "Envelope",
    "Executor",
    "ObjectRef",
    "Resources",
    "TaskOutcome",
    "TaskState",
    "report_progress",
    "run_captured",
    "set_progress_reporter",
]


class TaskState(enum.StrEnum):
    """Where a task is in its life."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended."""
        return self in {TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED}


@dataclass(frozen=True, slots=True)
class Resources:
    """What one task needs.

    Attributes:
        num_cpus: CPU cores (also the task's thread-pool size).
        num_gpus: GPUs (fractions share one).
        memory: Bytes of memory (0: not accounted).
    """

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    memory: int = 0


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """How a task ended.

    Attributes:
        task_id: The id :meth:`Executor.submit` returned.
        state: SUCCEEDED, FAILED or CANCELLED.
        value: What the function returned (SUCCEEDED only).
        error: One line saying why it failed or was cancelled.
        traceback: The full traceback of a failure, when known.
    """

    task_id: str
    state: TaskState
    value: Any = None
    error: str | None = None
    traceback: str | None = None


@dataclass(slots=True)
class Envelope:
    """What a worker sends back: the value and what the task logged."""

    value: Any
    logs: str = ""


class ObjectRef(abc.ABC):
    """A read-only value shared with tasks once (see :meth:`Executor.put`)."""

    @abc.abstractmethod
    def get(self) -> Any:
        """The value (cached in the worker after the first call)."""


class _InlineRef(ObjectRef):
    def __init__(self, value: Any) -> None:
        self._value = value

    def get(self) -> Any:
        return self._value


_reporter: Callable[[Any], None] | None = None


def set_progress_reporter(reporter: Callable[[Any], None] | None) -> None:
    """Install (or remove) the channel :func:`report_progress` writes to (executors only)."""
    global _reporter
    _reporter = reporter


def report_progress(event: Any) -> None:
    """From inside a task: send a small picklable event to the driver (best effort)."""
    reporter = _reporter
    if reporter is not None:
        try:
            reporter(event)
        except Exception:  # progress is advisory; never fail a task over it
            _reporter_failed()


def _reporter_failed() -> None:
    set_progress_reporter(None)


def run_captured(fn: Callable[[Any], Any], arg: Any) -> Envelope:
    """Run ``fn(arg)`` capturing its warnings and log records (WARNING and up) as text.

    Used by executors inside workers, so a task's warnings travel back with its result
    instead of going to a worker's stderr that nobody reads.
    """
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            value = fn(arg)
    finally:
        root.removeHandler(handler)
    for w in caught:
        buffer.write(f"WARNING {w.category.__name__}: {w.message}\n")
    return Envelope(value, buffer.getvalue())


class Executor(abc.ABC):
    """Runs tasks within resource requests and reports their outcomes.

    Executors are used from one driver thread; they are not thread-safe.
    """

    #: Short name used by ``--executor``.
    name: str = ""

    @abc.abstractmethod
    def submit(self, fn: Callable[[Any], Any], arg: Any, resources: Resources | None = None) -> str:
        """Queue ``fn(arg)``; return a task id. ``fn`` must be importable by module path.

        Raises:
            InvalidInput: ``resources`` can never fit in this executor.
        """

    @abc.abstractmethod
    def status(self, task_id: str) -> TaskState:
        """Where the task is now.

        Raises:
            NotFound: No task has that id.
        """

    @abc.abstractmethod
    def wait(
        self, task_ids: Sequence[str] | None = None, timeout: float | None = None
    ) -> list[TaskOutcome]:
        """Block until a task has ended, or ``timeout`` seconds pass.

        Waits for any of ``task_ids`` (default: every task) and returns the outcomes of those
        that ended and were not returned by an earlier ``wait``: an empty list on timeout or
        when none is left.
        """

    @abc.abstractmethod
    def cancel(self, task_id: str) -> bool:
        """Stop a task (a running one is killed); return whether it was still unfinished."""

    @abc.abstractmethod
    def logs(self, task_id: str) -> str:
        """What the task warned or logged (WARNING and up), and its traceback if it failed.

        Empty until the task ends.
        """

    @abc.abstractmethod
    def slots(self, resources: Resources | None = None) -> int:
        """How many tasks needing ``resources`` can run at the same time."""

    def put(self, value: Any) -> ObjectRef:
        """Share a large read-only value with tasks once; pass the ref in their ``arg``."""
        return _InlineRef(value)

    def progress(self) -> list[tuple[str, Any]]:
        """Drain ``(task_id, event)`` pairs sent by :func:`report_progress` so far."""
        return []

    def warm_up(self) -> None:  # noqa: B027 - optional hook
        """Start workers ahead of the first task, where that helps (optional)."""

    def close(self, *, cancel: bool = True) -> None:  # noqa: B027 - optional hook
        """Release workers; with ``cancel`` unfinished tasks are killed, else awaited."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(cancel=exc_type is not None)


def check_fits(resources: Resources, capacity: Resources, where: str) -> None:
    """Raise :class:`InvalidInput` when one task needs more than ``capacity`` holds."""
    from modelward.errors import InvalidInput

    problems = []
    if resources.num_cpus > capacity.num_cpus:
        problems.append(f"{resources.num_cpus:g} CPUs (there are {capacity.num_cpus:g})")
    if resources.num_gpus > capacity.num_gpus:
        problems.append(f"{resources.num_gpus:g} GPUs (there are {capacity.num_gpus:g})")
    if capacity.memory and resources.memory > capacity.memory:
        problems.append(
            f"{resources.memory / 2**30:.1f} GiB of memory "
            f"(there is {capacity.memory / 2**30:.1f} GiB)"
        )
    if problems:
        raise InvalidInput(
            f"a trial asks for {' and '.join(problems)} on {where}; lower resources in the "
            "spec or use a bigger machine",
            details={"resources": _as_dict(resources), "capacity": _as_dict(capacity)},
        )


def _as_dict(r: Resources) -> dict[str, float]:
    return {"num_cpus": r.num_cpus, "num_gpus": r.num_gpus, "memory": r.memory}


def format_exception(exc: BaseException) -> tuple[str, str]:
    """``(one line, full traceback)`` of an exception, including a remote traceback."""
    line = (
        f"{type(exc).__name__}: {exc}".strip().splitlines()[0] if str(exc) else type(exc).__name__
    )
    text = "".join(traceback.format_exception(exc))
    cause = exc.__cause__
    if cause is not None and type(cause).__name__ == "_RemoteTraceback":
        text = str(cause) + "\n" + text
    return line, text


@dataclass
class _Ledger:
    """Resources in use, for admission checks."""

    cpus: float = 0.0
    gpus: float = 0.0
    memory: int = 0
    tasks: int = 0
    members: dict[str, Resources] = field(default_factory=dict)

    def fits(self, r: Resources, capacity: Resources, max_tasks: int) -> bool:
        return (
            self.tasks < max_tasks
            and self.cpus + r.num_cpus <= capacity.num_cpus + 1e-9
            and self.gpus + r.num_gpus <= capacity.num_gpus + 1e-9
            and (not capacity.memory or self.memory + r.memory <= capacity.memory)
        )

    def add(self, task_id: str, r: Resources) -> None:
        self.members[task_id] = r
        self.cpus += r.num_cpus
        self.gpus += r.num_gpus
        self.memory += r.memory
        self.tasks += 1

    def remove(self, task_id: str) -> None:
        r = self.members.pop(task_id, None)
        if r is None:
            return
        self.cpus -= r.num_cpus
        self.gpus -= r.num_gpus
        self.memory -= r.memory
        self.tasks -= 1
