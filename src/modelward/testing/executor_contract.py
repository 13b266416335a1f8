"""The contract every :class:`~modelward.training.executors.Executor` passes.

Ours (``local``, ``ray``) and plugins' alike.

Use it from an executor's tests by importing the test functions and providing one fixture, a
fresh executor (closed by the fixture)::

    from modelward.testing.executor_contract import *  # noqa: F403

    @pytest.fixture
    def executor():
        with MyExecutor(...) as ex:
            yield ex

The task functions live in this module, so any worker can import them.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import pytest

from modelward.errors import InvalidInput, NotFound
from modelward.training.executors.base import Executor, Resources, TaskState, report_progress

__all__ = [
    "fail",
    "pid_after",
    "read_ref",
    "square",
    "test_cancel_stops_a_running_task",
    "test_failure_is_reported_with_its_message",
    "test_logs_and_progress_come_back",
    "test_put_shares_a_value_with_tasks",
    "test_resources_beyond_the_executor_are_refused",
    "test_submit_and_wait_return_each_outcome_once",
    "test_unknown_task_is_not_found",
    "warn_and_report",
]


# -- tasks (importable by workers) ------------------------------------------------------------
def square(x: int) -> int:
    """Return ``x * x``."""
    return x * x


def fail(message: str) -> None:
    """Raise ``ValueError(message)``."""
    raise ValueError(message)


def pid_after(seconds: float) -> tuple[int, float, float]:
    """Sleep, then return ``(pid, start, end)`` (wall-clock seconds)."""
    start = time.time()
    time.sleep(seconds)
    return os.getpid(), start, time.time()


def warn_and_report(x: int) -> int:
    """Warn once, report two progress events, return ``x``."""
    warnings.warn(f"careful with {x}", UserWarning, stacklevel=1)
    report_progress({"step": 1})
    report_progress({"step": 2})
    return x


def read_ref(ref: Any) -> int:
    """Return ``len`` of the value behind an :class:`ObjectRef`."""
    return len(ref.get())


# -- the suite -------------------------------------------------------------------------------
def _all(executor: Executor, ids: list[str], timeout: float = 120) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    while len(outcomes) < len(ids):
        left = deadline - time.monotonic()
        assert left > 0, f"tasks did not finish in {timeout} s: {set(ids) - set(outcomes)}"
        for outcome in executor.wait(ids, timeout=left):
            outcomes[outcome.task_id] = outcome
    return outcomes


def test_submit_and_wait_return_each_outcome_once(executor: Executor) -> None:
    """Submitted tasks run and return their values; each outcome is reported once."""
    ids = [executor.submit(square, i) for i in range(5)]
    assert len(set(ids)) == 5
    outcomes = _all(executor, ids)
    assert {outcomes[t].value for t in ids} == {0, 1, 4, 9, 16}
    assert all(outcomes[t].state is TaskState.SUCCEEDED for t in ids)
    assert all(executor.status(t) is TaskState.SUCCEEDED for t in ids)
    assert executor.wait(ids, timeout=0.1) == []
    assert executor.slots(Resources(num_cpus=1)) >= 1


def test_failure_is_reported_with_its_message(executor: Executor) -> None:
    """A raising task is FAILED with its message and traceback; others are unaffected."""
    bad = executor.submit(fail, "no good value")
    good = executor.submit(square, 3)
    outcomes = _all(executor, [bad, good])
    assert outcomes[bad].state is TaskState.FAILED
    assert "ValueError: no good value" in (outcomes[bad].error or "")
    assert "no good value" in (outcomes[bad].traceback or "")
    assert outcomes[good].value == 9


def test_cancel_stops_a_running_task(executor: Executor) -> None:
    """A running task can be cancelled; the executor keeps working afterwards."""
    slow = executor.submit(pid_after, 60.0)
    time.sleep(1.0)
    assert executor.cancel(slow)
    outcomes = _all(executor, [slow], timeout=60)
    assert outcomes[slow].state is TaskState.CANCELLED
    assert executor.cancel(slow) is False
    after = executor.submit(square, 4)
    assert _all(executor, [after])[after].value == 16


def test_logs_and_progress_come_back(executor: Executor) -> None:
    """Warnings come back in ``logs``; progress events reach the driver where supported."""
    task = executor.submit(warn_and_report, 7)
    assert _all(executor, [task])[task].value == 7
    assert "careful with 7" in executor.logs(task)
    events = [e for t, e in executor.progress() if t == task]
    assert events in ([], [{"step": 1}, {"step": 2}])


def test_put_shares_a_value_with_tasks(executor: Executor) -> None:
    """A value put once is readable by many tasks."""
    ref = executor.put(list(range(1000)))
    ids = [executor.submit(read_ref, ref) for _ in range(3)]
    assert {o.value for o in _all(executor, ids).values()} == {1000}


def test_resources_beyond_the_executor_are_refused(executor: Executor) -> None:
    """A task needing more than the executor has is refused at submit, naming the need."""
    with pytest.raises(InvalidInput, match="asks for 100000 CPUs"):
        executor.submit(square, 1, Resources(num_cpus=100_000))


def test_unknown_task_is_not_found(executor: Executor) -> None:
    """Asking about a task id the executor never gave out is NotFound."""
    with pytest.raises(NotFound, match="no task 'no-such-task'"):
        executor.status("no-such-task")
