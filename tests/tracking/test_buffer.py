"""The metric buffer: appends never wait on I/O, flush makes points durable, nothing is lost."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

from modelward.errors import NotFound, Unavailable
from modelward.store.metadata.base import MetadataStore
from modelward.store.metadata.tracking import MetricPoint
from modelward.tracking.buffer import MetricBuffer


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def _point(i: int, run_id: str = "r") -> MetricPoint:
    return (run_id, "m", float(i), i, i)


class RecordingSink:
    """Collects batches; fails while ``failures`` > 0, optionally blocks until released."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.batches: list[list[MetricPoint]] = []
        self.failures = failures
        self.error = error or Unavailable("the store is busy")
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.delay = 0.0

    def __call__(self, batch: Sequence[MetricPoint]) -> None:
        self.calls += 1
        self.entered.set()
        assert self.release.wait(timeout=20)
        if self.delay:
            time.sleep(self.delay)
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        self.batches.append(list(batch))

    @property
    def points(self) -> list[MetricPoint]:
        return [p for b in self.batches for p in b]


@pytest.fixture
def make_buffer() -> Iterator[Callable[..., MetricBuffer]]:
    made: list[MetricBuffer] = []

    def make(sink: Callable[[Sequence[MetricPoint]], None], **kwargs: object) -> MetricBuffer:
        buffer = MetricBuffer(sink, **kwargs)  # type: ignore[arg-type]
        made.append(buffer)
        return buffer

    yield make
    for buffer in made:
        with contextlib.suppress(Exception):  # a test may leave a refusing sink behind
            buffer.close()


def test_append_does_not_wait_for_a_busy_store(make_buffer: Callable[..., MetricBuffer]) -> None:
    sink = RecordingSink()
    sink.release.clear()
    buffer = make_buffer(sink, interval=0.01)
    buffer.append(_point(0))
    assert sink.entered.wait(timeout=10)  # the flusher is now stuck inside the store
    for i in range(1, 20_001):
        buffer.append(_point(i))
    assert not sink.release.is_set()
    assert sink.calls == 1
    assert len(buffer) == 20_000
    sink.release.set()
    buffer.flush()
    assert [p[3] for p in sink.points] == list(range(20_001))
    assert len(buffer) == 0


def test_flush_makes_points_durable(
    make_buffer: Callable[..., MetricBuffer], sqlite_store: MetadataStore
) -> None:
    run = sqlite_store.create_run(sqlite_store.create_experiment("exp").id)
    buffer = make_buffer(sqlite_store.log_metrics, interval=60.0, batch_size=700)
    for i in range(5000):
        buffer.append(_point(i, run.id))
    buffer.flush()
    history = sqlite_store.get_metric_history(run.id, "m")
    assert [m.step for m in history] == list(range(5000))
    assert sqlite_store.get_run(run.id).metrics["m"] == 4999.0


def test_background_thread_flushes_without_being_asked(
    make_buffer: Callable[..., MetricBuffer],
) -> None:
    ticks: list[float] = []
    sink = RecordingSink()
    buffer = make_buffer(sink, interval=0.01, on_tick=lambda: ticks.append(time.monotonic()))
    buffer.extend([_point(i) for i in range(10)])
    _wait_until(lambda: len(sink.points) == 10)
    _wait_until(lambda: len(ticks) >= 2)


def test_failed_flush_requeues_then_succeeds(make_buffer: Callable[..., MetricBuffer]) -> None:
    sink = RecordingSink(failures=2)
    buffer = make_buffer(sink, interval=60.0, batch_size=3)
    buffer.extend([_point(i) for i in range(10)])
    for _ in range(2):
        with pytest.raises(Unavailable, match="the store is busy"):
            buffer.flush()
        assert len(buffer) == 10
    buffer.flush()
    assert [p[3] for p in sink.points] == list(range(10))  # each once, in order


def test_background_retries_until_the_store_accepts(
    make_buffer: Callable[..., MetricBuffer], caplog: pytest.LogCaptureFixture
) -> None:
    sink = RecordingSink(failures=3, error=RuntimeError("driver bug"))
    buffer = make_buffer(sink, interval=0.005)
    with caplog.at_level(logging.WARNING, logger="modelward.tracking.buffer"):
        buffer.extend([_point(i) for i in range(100)])
        _wait_until(lambda: len(sink.points) == 100)
    assert [p[3] for p in sink.points] == list(range(100))
    assert "could not write 100 metric points (will retry): driver bug" in caplog.text


def test_unknown_run_drops_only_its_points(
    make_buffer: Callable[..., MetricBuffer],
    sqlite_store: MetadataStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = sqlite_store.create_run(sqlite_store.create_experiment("exp").id)
    missing = "f" * 32
    buffer = make_buffer(sqlite_store.log_metrics, interval=60.0, batch_size=50)
    for i in range(200):
        buffer.append(_point(i, run.id if i % 2 else missing))
    with (
        caplog.at_level(logging.ERROR, logger="modelward.tracking.buffer"),
        pytest.raises(NotFound, match=f"unknown run '{missing}'"),
    ):
        buffer.flush()
    assert len(buffer) == 0
    assert [m.step for m in sqlite_store.get_metric_history(run.id, "m")] == list(range(1, 200, 2))
    assert f"dropped 25 metric points for unknown runs ['{missing}']" in caplog.text
    buffer.flush()  # nothing left that could fail


def test_back_pressure_bounds_the_queue(make_buffer: Callable[..., MetricBuffer]) -> None:
    sink = RecordingSink()
    sink.delay = 0.002
    buffer = make_buffer(sink, interval=60.0, max_points=500, batch_size=100)
    longest = 0
    for i in range(5000):
        buffer.append(_point(i))
        longest = max(longest, len(buffer))
    assert longest < 500
    buffer.flush()
    assert [p[3] for p in sink.points] == list(range(5000))


def test_extend_past_the_limit_before_any_flush_does_not_hang(
    make_buffer: Callable[..., MetricBuffer],
) -> None:
    sink = RecordingSink()
    buffer = make_buffer(sink, interval=60.0, max_points=2000, batch_size=1000)
    done = threading.Event()

    def fill() -> None:
        buffer.extend([_point(i) for i in range(2500)])
        done.set()

    threading.Thread(target=fill, daemon=True).start()
    assert done.wait(timeout=10), "extend() blocked forever waiting for a flusher"
    buffer.flush()
    assert len(sink.points) == 2500


def test_close_flushes_and_stops_the_thread(make_buffer: Callable[..., MetricBuffer]) -> None:
    sink = RecordingSink()
    buffer = make_buffer(sink, interval=60.0)
    buffer.extend([_point(i) for i in range(7)])
    flusher = next(t for t in threading.enumerate() if t.name == "modelward-metric-flush")
    buffer.close()
    assert len(sink.points) == 7
    assert not flusher.is_alive()
