"""The prediction log writer: every prediction, appended to Parquet files off the hot path.

The serving loop hands over one record per model call (the merged batch, its outputs and the
requests in it) with a deque append; a background thread turns them into columns, rolls a
Parquet file every ``roll_rows`` rows or ``roll_seconds`` seconds and stores it through the
artifact service (layout and schema: :mod:`modelward.deployments.predictions`). When the queue
holds ``max_queue_rows`` rows, new records are dropped and counted, never waited for; when the
store cannot be reached, files are retried until the same bound is hit.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from modelward.deployments.predictions import input_column, part_path

if TYPE_CHECKING:
    import pyarrow as pa

    from modelward.serving.metrics import ServingMetrics

__all__ = ["PredictionLogWriter"]

log = logging.getLogger(__name__)


class _Record:
    __slots__ = (
        "done_ms",
        "inputs",
        "latencies",
        "model",
        "names",
        "outputs",
        "request_ids",
        "role",
        "rows",
        "version",
    )

    def __init__(
        self,
        model: str,
        version: int,
        role: str,
        names: Sequence[str],
        inputs: Any,
        outputs: np.ndarray,
        request_ids: list[str],
        rows: list[int],
        latencies: list[float],
        done_ms: int,
    ) -> None:
        self.model = model
        self.version = version
        self.role = role
        self.names = names
        self.inputs = inputs
        self.outputs = outputs
        self.request_ids = request_ids
        self.rows = rows
        self.latencies = latencies
        self.done_ms = done_ms


class PredictionLogWriter:
    """Append predictions to Parquet files in the background.

    Args:
        deployment: Deployment name (a metrics label; the caller picks the scope).
        write: Stores one file: ``write(path, parquet_bytes)`` (called in the writer thread).
        metrics: Where rows written and dropped are counted.
        max_queue_rows: Rows held in memory before new ones are dropped.
        roll_rows: Rows per file.
        roll_seconds: Longest time rows wait before being written.
    """

    def __init__(
        self,
        deployment: str,
        write: Callable[[str, bytes], Any],
        *,
        metrics: ServingMetrics | None = None,
        max_queue_rows: int = 200_000,
        roll_rows: int = 20_000,
        roll_seconds: float = 10.0,
    ) -> None:
        self.deployment = deployment
        self._write = write
        self._metrics = metrics
        self.max_queue_rows = max_queue_rows
        self.roll_rows = roll_rows
        self.roll_seconds = roll_seconds
        self._queue: collections.deque[_Record] = collections.deque()
        self._lock = threading.Lock()
        self._queued = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written_rows = 0
        self.dropped_rows = 0
        self.files = 0

    # -- serving side --------------------------------------------------------------------------
    def append(
        self,
        model: str,
        version: int,
        role: str,
        names: Sequence[str],
        inputs: Any,
        outputs: np.ndarray,
        request_ids: list[str],
        rows: list[int],
        latencies: list[float],
    ) -> bool:
        """Queue one model call's rows; False (and counted) when the queue is full."""
        n = int(outputs.shape[0])
        with self._lock:
            if self._queued + n > self.max_queue_rows:
                self.dropped_rows += n
                full = True
            else:
                self._queued += n
                full = False
        if full:
            if self._metrics is not None:
                self._metrics.log_dropped.labels(self.deployment, "queue_full").inc(n)
            return False
        self._queue.append(
            _Record(
                model,
                version,
                role,
                names,
                inputs,
                outputs,
                request_ids,
                rows,
                latencies,
                time.time_ns() // 1_000_000,
            )
        )
        return True

    @property
    def queued_rows(self) -> int:
        """Rows accepted but not yet written."""
        return self._queued

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"modelward-predlog-{self.deployment}", daemon=True
            )
            self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            self.start()
        assert self._thread is not None
        self._thread.join(timeout)
        self._thread = None

    def flush(self) -> None:
        """Ask the thread to write what it holds now (returns at once)."""
        self._wake.set()

    # -- writer thread -------------------------------------------------------------------------
    def _drain(self) -> Any:
        while self._queue:
            yield self._queue.popleft()

    def _run(self) -> None:
        # Records are turned into Arrow tables at every wake-up (ten times a second): columns
        # take a fraction of the memory of per-request Python objects.
        pending: list[pa.Table] = []
        pending_rows = 0
        first_ms = 0
        last = time.monotonic()
        while True:
            stopping = self._stop.is_set()
            self._wake.wait(0.1)
            forced = self._wake.is_set()
            self._wake.clear()
            records = list(self._drain())
            if records:
                rows = sum(int(r.outputs.shape[0]) for r in records)
                try:
                    pending.append(_arrow(records))
                    first_ms = first_ms or records[0].done_ms
                    pending_rows += rows
                except Exception:  # pragma: no cover - a bug: never let it stop serving
                    log.exception("cannot encode %d prediction log rows; dropped", rows)
                    self._release(rows)
                    self._drop(rows, "encode_failed")
            if self._metrics is not None:
                self._metrics.log_queue.labels(self.deployment).set(self._queued)
            due = time.monotonic() - last >= self.roll_seconds
            if pending and (pending_rows >= self.roll_rows or due or forced or stopping):
                if self._flush(pending, pending_rows, first_ms, final=stopping):
                    pending, pending_rows, first_ms = [], 0, 0
                last = time.monotonic()
            if stopping and not self._queue:
                if pending:  # the store is down at shutdown: what is left is lost, counted
                    self._drop(pending_rows, "store_unavailable")
                return

    def _flush(self, tables: list[pa.Table], rows: int, first_ms: int, *, final: bool) -> bool:
        try:
            data = _parquet(tables)
        except Exception:  # pragma: no cover - a bug: never let it stop serving
            log.exception("cannot build the prediction log file; %d rows dropped", rows)
            self._release(rows)
            self._drop(rows, "encode_failed")
            return True
        path = part_path(first_ms)
        try:
            self._write(path, data)
        except Exception as exc:
            log.warning("prediction log: cannot store %s (%s); will retry", path, exc)
            if final or self._queued > self.max_queue_rows:
                self._release(rows)
                self._drop(rows, "store_unavailable")
                return True
            return False
        self._release(rows)
        self.written_rows += rows
        self.files += 1
        if self._metrics is not None:
            self._metrics.log_rows_child.inc(rows)
        return True

    def _release(self, rows: int) -> None:
        with self._lock:
            self._queued -= rows

    def _drop(self, rows: int, reason: str) -> None:
        self.dropped_rows += rows
        if self._metrics is not None:
            self._metrics.log_dropped.labels(self.deployment, reason).inc(rows)


def _arrow(records: list[_Record]) -> pa.Table:
    import pyarrow as pa

    groups: dict[tuple[str, int, str, tuple[str, ...], str], list[_Record]] = {}
    for r in records:
        form = "array" if isinstance(r.inputs, np.ndarray) else type(r.inputs).__name__
        groups.setdefault((r.model, r.version, r.role, tuple(r.names), form), []).append(r)
    tables = [_table(group) for group in groups.values()]
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="permissive")


def _parquet(tables: list[pa.Table]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = (
        tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _table(records: list[_Record]) -> pa.Table:
    import pyarrow as pa

    first = records[0]
    ids: list[str] = []
    row_index: list[np.ndarray] = []
    times: list[np.ndarray] = []
    latency: list[np.ndarray] = []
    for r in records:
        for rid, n, lat in zip(r.request_ids, r.rows, r.latencies, strict=True):
            ids.extend([rid] * n)
            row_index.append(np.arange(n, dtype=np.int32))
            start_ms = r.done_ms - lat
            times.append(np.full(n, int(start_ms), dtype=np.int64))
            latency.append(np.full(n, lat, dtype=np.float64))
    n_rows = len(ids)
    columns: dict[str, Any] = {
        "request_id": pa.array(ids, pa.string()),
        "row": pa.array(np.concatenate(row_index)),
        "time": pa.array(np.concatenate(times), pa.timestamp("ms", "UTC")),
        "model_name": pa.array([first.model] * n_rows, pa.string()),
        "model_version": pa.array(np.full(n_rows, first.version, dtype=np.int64)),
        "role": pa.array([first.role] * n_rows, pa.string()),
        "latency_ms": pa.array(np.concatenate(latency)),
        "prediction": _column(np.concatenate([r.outputs for r in records])),
    }
    if isinstance(first.inputs, np.ndarray) and first.names and first.inputs.ndim == 2:
        matrix = np.concatenate([r.inputs for r in records])
        for i, name in enumerate(first.names):
            columns[input_column(name)] = pa.array(matrix[:, i])
    elif isinstance(first.inputs, dict):
        for name in first.inputs:
            columns[input_column(name)] = _column(np.concatenate([r.inputs[name] for r in records]))
    else:
        values: list[str] = []
        for r in records:
            values.extend(json.dumps(_jsonable(v), default=str) for v in r.inputs)
        columns["inputs"] = pa.array(values, pa.string())
    return pa.table(columns)


def _column(values: np.ndarray) -> pa.Array:
    import pyarrow as pa

    if values.ndim == 1:
        if values.dtype.kind == "O":
            return pa.array([None if v is None else str(v) for v in values], pa.string())
        if values.dtype.kind == "M":
            return pa.array(values.astype("datetime64[ms]"))
        return pa.array(values)
    flat = values.reshape(values.shape[0], -1)
    return pa.array(list(flat))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
