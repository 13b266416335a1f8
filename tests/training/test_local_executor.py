"""The local executor: the executor contract, admission by resources, dead workers."""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from modelward.errors import InvalidInput
from modelward.testing import executor_contract
from modelward.testing.executor_contract import *  # noqa: F403
from modelward.training.executors import make_executor
from modelward.training.executors.base import Executor, Resources, TaskState
from modelward.training.executors.local import LocalExecutor


@pytest.fixture
def executor() -> Iterator[Executor]:
    with LocalExecutor(2) as ex:
        yield ex


def _wait_all(executor: Executor, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    while len(out) < len(ids):
        for outcome in executor.wait(ids, timeout=60):
            out[outcome.task_id] = outcome
    return out


def test_admission_never_oversubscribes_cpus() -> None:
    # Two workers, but each task asks for both CPUs: they must run one after the other.
    with LocalExecutor(2, cpus=2) as executor:
        assert executor.slots(Resources(num_cpus=2)) == 1
        ids = [
            executor.submit(executor_contract.pid_after, 0.5, Resources(num_cpus=2))
            for _ in range(3)
        ]
        spans = sorted((o.value[1], o.value[2]) for o in _wait_all(executor, ids).values())
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end - 0.05


def test_admission_by_memory_and_refusal_of_impossible_requests() -> None:
    with LocalExecutor(4, cpus=4, memory=3 * 2**30) as executor:
        assert executor.slots(Resources(num_cpus=1, memory=2**30)) == 3
        assert executor.slots(Resources(num_cpus=1, memory=2 * 2**30)) == 1
        with pytest.raises(
            InvalidInput, match=r"asks for 4\.0 GiB of memory \(there is 3\.0 GiB\)"
        ):
            executor.submit(executor_contract.square, 2, Resources(memory=4 * 2**30))
        with pytest.raises(InvalidInput, match=r"asks for 1 GPUs \(there are 0\)"):
            LocalExecutor(1, gpus=0).submit(executor_contract.square, 2, Resources(num_gpus=1))


def test_a_killed_worker_fails_only_its_task_and_the_pool_recovers() -> None:
    with LocalExecutor(2) as executor:
        victim = executor.submit(executor_contract.pid_after, 30.0)
        bystander = executor.submit(executor_contract.pid_after, 2.0)
        deadline = time.monotonic() + 30
        while executor._tasks[victim].pid is None or executor._tasks[bystander].pid is None:
            executor.status(victim)
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.05)
        os.kill(executor._tasks[victim].pid, signal.SIGKILL)  # type: ignore[arg-type]
        outcomes = _wait_all(executor, [victim, bystander])
        assert outcomes[victim].state is TaskState.FAILED
        assert (
            "worker process running this trial died (killed by SIGKILL)" in outcomes[victim].error
        )
        # The bystander's worker was stopped with the broken pool; it ran again and finished.
        assert outcomes[bystander].state is TaskState.SUCCEEDED
        after = executor.submit(executor_contract.square, 5)
        assert _wait_all(executor, [after])[after].value == 25


def test_make_executor_checks_its_arguments() -> None:
    with pytest.raises(InvalidInput, match="unknown executor 'dask'; choose one of local, ray"):
        make_executor("dask")
    with pytest.raises(InvalidInput, match="--address is for the ray executor"):
        make_executor("local", address="127.0.0.1:6379")
    with pytest.raises(InvalidInput, match="workers must be at least 1"):
        LocalExecutor(0)


def test_closed_executor_refuses_work() -> None:
    executor = LocalExecutor(1)
    executor.close()
    with pytest.raises(InvalidInput, match="this executor is closed"):
        executor.submit(executor_contract.square, 1)


def test_gpus_are_counted_when_a_task_asks_for_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelward.training import devices

    monkeypatch.setattr(devices, "gpu_count", lambda: 1)
    executor = LocalExecutor(4, cpus=4)
    assert executor.slots(Resources(num_cpus=1)) == 4  # no GPU asked: torch is not consulted
    assert executor.slots(Resources(num_cpus=1, num_gpus=0.5)) == 2
    assert executor.slots(Resources(num_cpus=1, num_gpus=1)) == 1
    with pytest.raises(InvalidInput, match=r"asks for 2 GPUs \(there are 1\)"):
        executor.submit(executor_contract.square, 1, Resources(num_gpus=2))
    executor.close()
