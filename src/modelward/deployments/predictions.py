"""Where the prediction log lives and how to read it back.

Servers append every prediction to Parquet files in the artifact store, partitioned by
deployment and day::

    scope  predictions/<deployment>
    path   date=YYYY-MM-DD/part-<epoch ms>-<random>.parquet

Each row is one input row of one request. Columns (see ``docs/serving.md``): ``request_id``,
``row``, ``time`` (timestamp, ms, UTC), ``model_name``, ``model_version``, ``role``
(``champion``, ``canary`` or ``shadow``), ``latency_ms``, ``prediction``, then one column per
model input, named after it (an input whose name collides with one of these gets an
``input.`` prefix).
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "RESERVED_COLUMNS",
    "input_column",
    "part_path",
    "predictions_scope",
    "read_prediction_log",
]

#: Columns every prediction log file has, in order, before the model's inputs.
RESERVED_COLUMNS: tuple[str, ...] = (
    "request_id",
    "row",
    "time",
    "model_name",
    "model_version",
    "role",
    "latency_ms",
    "prediction",
)
_RESERVED = frozenset(RESERVED_COLUMNS)


def predictions_scope(deployment: str) -> str:
    """The artifact scope holding a deployment's prediction log."""
    return f"predictions/{deployment}"


def input_column(name: str) -> str:
    """The log column of the model input ``name``."""
    return f"input.{name}" if name in _RESERVED else name


def part_path(time_ms: int) -> str:
    """A new file's path for rows written at ``time_ms``."""
    day = dt.datetime.fromtimestamp(time_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")
    return f"date={day}/part-{time_ms}-{uuid.uuid4().hex[:12]}.parquet"


def _day(path: str) -> dt.date | None:
    head = path.split("/", 1)[0]
    if not head.startswith("date="):
        return None
    try:
        return dt.date.fromisoformat(head[5:])
    except ValueError:
        return None


def read_prediction_log(
    artifacts: Any,
    deployment: str,
    *,
    start: int | None = None,
    end: int | None = None,
    limit: int | None = None,
) -> pa.Table:
    """Read the rows logged in ``[start, end)`` (ms since the epoch), oldest first.

    Only the day partitions that can hold such rows are read.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    first = None if start is None else dt.datetime.fromtimestamp(start / 1000, tz=dt.UTC).date()
    last = None if end is None else dt.datetime.fromtimestamp(end / 1000, tz=dt.UTC).date()
    tables = []
    for entry in artifacts.list(predictions_scope(deployment)):
        day = _day(entry.path)
        if day is None or (first is not None and day < first) or (last is not None and day > last):
            continue
        data = artifacts.read_bytes(predictions_scope(deployment), entry.path)
        tables.append(pq.read_table(io.BytesIO(data)))
    if not tables:
        return _empty_table()
    table = pa.concat_tables(tables, promote_options="permissive")
    if start is not None:
        table = table.filter(
            pc.greater_equal(table["time"], pa.scalar(start, pa.timestamp("ms", "UTC")))
        )
    if end is not None:
        table = table.filter(pc.less(table["time"], pa.scalar(end, pa.timestamp("ms", "UTC"))))
    table = table.sort_by(
        [("time", "ascending"), ("request_id", "ascending"), ("row", "ascending")]
    )
    if limit is not None:
        table = table.slice(0, limit)
    return table


def _empty_table() -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "request_id": pa.array([], pa.string()),
            "row": pa.array([], pa.int32()),
            "time": pa.array([], pa.timestamp("ms", "UTC")),
            "model_name": pa.array([], pa.string()),
            "model_version": pa.array([], pa.int64()),
            "role": pa.array([], pa.string()),
            "latency_ms": pa.array([], pa.float64()),
            "prediction": pa.array([], pa.float64()),
        }
    )
