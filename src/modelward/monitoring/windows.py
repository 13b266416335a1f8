"""Windows: which slice of the prediction log (or which dataset version) one evaluation covers.

Three kinds (``window.type`` of a monitor):

- **time**: consecutive windows of ``size`` seconds aligned to the epoch (an hourly window
  always starts on the hour, so results from different runs line up). A window is due once
  its end is at least ``lag`` old; each run evaluates the due windows after the last one it
  evaluated (the cursor), oldest first, at most ``max_windows``. A new monitor starts with the
  last ``backfill`` windows.
- **rows**: consecutive blocks of ``size`` log rows, in log order (time, request id, row). A
  block is due once it is complete and its rows are at least ``lag`` old. The cursor is the
  last row evaluated; a new monitor starts with the last ``backfill`` complete blocks of the
  past day.
- **dataset**: one dataset version compared with the reference (evaluated once).

An explicit window for ``monitor run --window`` and ``monitor report --window``:
``last:1h``, ``START/END`` (ISO 8601 times or ms since the epoch), ``rows:N`` (the last N
rows) or ``dataset:NAME@N``.

The log is read once per run for all due windows and sliced per window (it is sorted by time),
so a run over 24 hourly windows reads each day's files once, not 24 times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidInput
from modelward.monitoring.spec import WindowSpec, format_duration, parse_duration

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DAY_MS",
    "LogReader",
    "Window",
    "WindowRequest",
    "due_time_windows",
    "format_time",
    "parse_time",
    "parse_window",
    "row_blocks",
    "slice_time",
]

DAY_MS = 86_400_000

#: ``read(start_ms, end_ms)`` -> the deployment's prediction log rows in ``[start, end)``.
LogReader = Callable[[int | None, int | None], "pa.Table"]


@dataclass(frozen=True, slots=True)
class Window:
    """One evaluated window.

    Attributes:
        start: First ms (inclusive).
        end: End (exclusive). Row and dataset windows use their rows' time span.
        kind: ``time``, ``rows``, ``dataset`` or ``explicit``.
        label: For a person: ``2026-01-01 10:00 → 11:00``, ``rows 1000``, ``wine@3``.
        dataset: The dataset version of a dataset window.
        cursor: For row windows, the last row's ``(time, request_id, row)``.
    """

    start: int
    end: int
    kind: str
    label: str = ""
    dataset: str | None = None
    cursor: tuple[int, str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "label": self.label or f"{format_time(self.start)} → {format_time(self.end)}",
            "dataset": self.dataset,
        }


@dataclass(frozen=True, slots=True)
class WindowRequest:
    """An explicit window asked for on the command line (see :func:`parse_window`)."""

    kind: str
    start: int | None = None
    end: int | None = None
    rows: int | None = None
    dataset: str | None = None


def format_time(ms: int) -> str:
    """``2026-01-01 10:00:00Z`` (UTC, seconds precision)."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def parse_time(text: str, what: str = "time") -> int:
    """Milliseconds since the epoch from an integer or an ISO 8601 time (UTC unless it says)."""
    value = text.strip()
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{what} {text!r} is neither ms since the epoch nor an ISO 8601 time such as "
            "2026-01-31T10:00:00Z"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def parse_window(text: str, now: int) -> WindowRequest:
    """Parse ``last:1h``, ``START/END``, ``rows:N`` or ``dataset:NAME@N``."""
    value = text.strip()
    kind, sep, arg = value.partition(":")
    if sep and kind == "last":
        span = int(parse_duration(arg, "--window last:DURATION") * 1000)
        if span <= 0:
            raise InvalidInput("--window last:DURATION needs a positive duration, e.g. last:1h")
        return WindowRequest("explicit", start=now - span, end=now)
    if sep and kind == "rows":
        if not arg.isdigit() or int(arg) < 1:
            raise InvalidInput(f"--window rows:N needs a positive row count, not {arg!r}")
        return WindowRequest("rows", rows=int(arg))
    if sep and kind == "dataset":
        if not arg:
            raise InvalidInput("--window dataset:NAME@N needs a dataset version")
        return WindowRequest("dataset", dataset=arg)
    if "/" in value:
        first, _, second = value.partition("/")
        start, end = parse_time(first, "window start"), parse_time(second, "window end")
        if end <= start:
            raise InvalidInput(f"the window ends ({second}) before it starts ({first})")
        return WindowRequest("explicit", start=start, end=end)
    raise InvalidInput(
        f"--window {text!r} is not understood; use last:1h, START/END (ISO times or ms), "
        "rows:N or dataset:NAME@N"
    )


def due_time_windows(spec: WindowSpec, state: Mapping[str, Any], now: int) -> list[tuple[int, int]]:
    """The time windows a run evaluates now: after the cursor, complete, at most ``max_windows``."""
    size = int(spec.size * 1000)
    lag = int(spec.lag * 1000)
    last_end = (now - lag) // size * size
    cursor = state.get("cursor")
    first = int(cursor) if cursor is not None else last_end - spec.backfill * size
    first = first // size * size
    return [(s, s + size) for s in range(first, last_end, size)][: spec.max_windows]


def time_label(start: int, end: int) -> str:
    """``2026-01-01 10:00:00Z → 11:00:00Z (1h)``."""
    span = format_duration((end - start) / 1000)
    return f"{format_time(start)} → {format_time(end)} ({span})"


def slice_time(table: pa.Table, start: int, end: int) -> pa.Table:
    """Rows of a time-sorted log table with ``start <= time < end`` (binary search)."""
    import numpy as np

    if table.num_rows == 0:
        return table
    times = _times(table)
    lo = int(np.searchsorted(times, start, side="left"))
    hi = int(np.searchsorted(times, end, side="left"))
    return table.slice(lo, hi - lo)


def _times(table: pa.Table) -> Any:
    import numpy as np
    import pyarrow as pa

    column = table.column("time")
    column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def after_cursor(table: pa.Table, cursor: tuple[int, str, int] | None) -> pa.Table:
    """Rows strictly after ``cursor`` in log order (time, request id, row)."""
    import numpy as np

    if cursor is None or table.num_rows == 0:
        return table
    t, rid, row = cursor
    times = _times(table)
    lo = int(np.searchsorted(times, t, side="left"))
    hi = int(np.searchsorted(times, t, side="right"))
    # Rows sharing the cursor's millisecond: compare (request id, row) one by one (few rows).
    ids = table.column("request_id").slice(lo, hi - lo).to_pylist()
    rows = table.column("row").slice(lo, hi - lo).to_pylist()
    skip = sum(1 for i, r in zip(ids, rows, strict=True) if (i, r) <= (rid, row))
    return table.slice(lo + skip)


def row_blocks(
    table: pa.Table, spec: WindowSpec, *, first_run: bool
) -> list[tuple[Window, pa.Table]]:
    """Complete blocks of ``spec.size`` rows, oldest first, at most ``max_windows``.

    On a first run only the last ``backfill`` complete blocks are kept.
    """
    size = int(spec.size)
    count = table.num_rows // size
    indices = list(range(count))
    if first_run:
        indices = indices[-spec.backfill :]
    out = []
    for i in indices[: spec.max_windows]:
        block = table.slice(i * size, size)
        out.append((_row_window(block, size), block))
    return out


def _row_window(block: pa.Table, size: int) -> Window:
    times = _times(block)
    last = block.num_rows - 1
    cursor = (
        int(times[last]),
        str(block.column("request_id")[last].as_py()),
        int(block.column("row")[last].as_py()),
    )
    start, end = int(times[0]), int(times[last]) + 1
    return Window(
        start=start,
        end=end,
        kind="rows",
        label=f"rows {size}: {format_time(start)} → {format_time(end)}",
        cursor=cursor,
    )


def last_rows(table: pa.Table, n: int) -> tuple[Window, pa.Table]:
    """The last ``n`` rows as one window."""
    block = table.slice(max(0, table.num_rows - n))
    if block.num_rows == 0:
        return Window(0, 1, "rows", label=f"last {n} rows (none logged)"), block
    window = _row_window(block, n)
    return Window(
        window.start, window.end, "rows", label=f"last {block.num_rows} rows", cursor=None
    ), block


def filter_roles(table: pa.Table, roles: tuple[str, ...]) -> pa.Table:
    """Keep the rows whose ``role`` is listed (tables without a role column pass whole)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0 or "role" not in table.column_names:
        return table
    mask = pc.is_in(table.column("role"), value_set=pa.array(list(roles), pa.string()))
    return table.filter(mask)
