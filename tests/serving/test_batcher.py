"""Micro-batching: concurrent requests merged up to the limit, split back exactly."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from modelward.errors import ModelFailed, SchemaViolation
from modelward.serving.batcher import Batcher

pytestmark = pytest.mark.anyio


class Model:
    def __init__(self, fail_row: float | None = None) -> None:
        self.calls: list[int] = []
        self.fail_row = fail_row

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls.append(int(x.shape[0]))
        if self.fail_row is not None and np.any(x[:, 0] == self.fail_row):
            raise RuntimeError("boom")
        return x[:, 0] * 10


def rows(start: int, n: int) -> np.ndarray:
    return np.arange(start, start + n, dtype=float).reshape(-1, 1)


async def test_concurrent_requests_are_merged_and_split_exactly() -> None:
    model = Model()
    batcher = Batcher(model, describe="m v1", max_batch_size=64)
    sizes = [1, 3, 2, 5, 1, 4, 7, 1]
    starts = np.cumsum([0, *sizes[:-1]])
    futures = [
        batcher.submit(rows(s, n), n, f"r{i}", 0.0)
        for i, (s, n) in enumerate(zip(starts, sizes, strict=False))
    ]
    results = await asyncio.gather(*futures)
    for (s, n), out in zip(zip(starts, sizes, strict=False), results, strict=False):
        assert out.tolist() == (rows(s, n)[:, 0] * 10).tolist()
    assert model.calls == [sum(sizes)]  # one model call for everything queued together


async def test_batches_never_exceed_the_row_limit() -> None:
    model = Model()
    batcher = Batcher(model, describe="m v1", max_batch_size=5)
    futures = [batcher.submit(rows(i * 2, 2), 2, str(i), 0.0) for i in range(6)]
    results = await asyncio.gather(*futures)
    assert [r.tolist() for r in results] == [[i * 20.0, i * 20.0 + 10] for i in range(6)]
    assert all(c <= 5 for c in model.calls)
    assert sum(model.calls) == 12


async def test_a_request_larger_than_the_limit_is_predicted_alone_in_chunks() -> None:
    model = Model()
    batcher = Batcher(model, describe="m v1", max_batch_size=4, inline_rows=8)
    small = batcher.submit(rows(100, 1), 1, "small", 0.0)
    big = batcher.submit(rows(0, 10), 10, "big", 0.0)
    assert (await big).tolist() == (rows(0, 10)[:, 0] * 10).tolist()
    assert (await small).tolist() == [1000.0]
    assert model.calls[0] == 1  # the small one was not merged past the limit
    assert model.calls[1:] == [4, 4, 2]  # the big one in chunks, in the worker thread
    batcher.close()


async def test_one_failing_request_does_not_fail_its_batch_mates() -> None:
    model = Model(fail_row=3.0)
    batcher = Batcher(model, describe="m v1")
    good = batcher.submit(rows(0, 2), 2, "good", 0.0)
    bad = batcher.submit(rows(3, 1), 1, "bad", 0.0)
    other = batcher.submit(rows(5, 1), 1, "other", 0.0)
    assert (await good).tolist() == [0.0, 10.0]
    assert (await other).tolist() == [50.0]
    with pytest.raises(ModelFailed, match="model m v1 failed on this input: RuntimeError: boom"):
        await bad


async def test_client_errors_from_the_model_keep_their_status() -> None:
    def predict(x: np.ndarray) -> np.ndarray:
        raise SchemaViolation("column 'x' is bad")

    batcher = Batcher(predict, describe="m v1")
    with pytest.raises(SchemaViolation, match="column 'x' is bad"):
        await batcher.submit(rows(0, 1), 1, "r", 0.0)


async def test_wrong_number_of_predictions_is_a_model_failure() -> None:
    batcher = Batcher(lambda x: np.zeros(1), describe="m v1")
    with pytest.raises(ModelFailed, match="returned 1 predictions for 2 rows"):
        await batcher.submit(rows(0, 2), 2, "r", 0.0)


async def test_a_lone_request_waits_for_no_timer() -> None:
    batcher = Batcher(Model(), describe="m v1", max_wait_ms=1000)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await batcher.submit(rows(0, 1), 1, "r", 0.0)
    assert loop.time() - start < 0.5  # max_wait applies only to requests still arriving


async def test_shadow_offers_are_bounded_and_errors_reported() -> None:
    errors: list[BaseException] = []
    done = asyncio.Event()
    batcher = Batcher(
        Model(fail_row=0.0),
        describe="s v1",
        max_queue_rows=2,
        always_thread=True,
        on_error=lambda e: (errors.append(e), done.set()),
    )
    assert batcher.offer(rows(0, 2), 2, "a", 0.0)
    assert not batcher.offer(rows(1, 1), 1, "b", 0.0)  # over the bound: dropped
    assert batcher.dropped == 1
    await asyncio.wait_for(done.wait(), 5)
    assert isinstance(errors[0], ModelFailed)
    assert await batcher.wait_idle(5)
    batcher.close()
