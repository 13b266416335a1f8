"""Windows over the prediction log: due time windows, row blocks, cursors, explicit windows."""

from __future__ import annotations

import pyarrow as pa
import pytest

from modelward.errors import InvalidInput
from modelward.monitoring.spec import WindowSpec
from modelward.monitoring.windows import (
    after_cursor,
    due_time_windows,
    filter_roles,
    parse_time,
    parse_window,
    row_blocks,
    slice_time,
)

H = 3_600_000


def _log(times: list[int], ids: list[str] | None = None) -> pa.Table:
    n = len(times)
    return pa.table(
        {
            "request_id": pa.array(ids or [f"r{i:03d}" for i in range(n)]),
            "row": pa.array([0] * n, pa.int32()),
            "time": pa.array(times, pa.timestamp("ms", "UTC")),
            "role": pa.array(["champion"] * (n - 1) + ["shadow"] if n else [], pa.string()),
        }
    )


def test_time_windows_are_aligned_complete_and_resume_after_the_cursor() -> None:
    spec = WindowSpec.from_dict({"size": "1h", "lag": "1m", "backfill": 3, "max_windows": 2})
    now = 10 * H + 30 * 60_000
    first = due_time_windows(spec, {}, now)
    assert first == [(7 * H, 8 * H), (8 * H, 9 * H)]  # backfill 3, at most 2 per run
    assert due_time_windows(spec, {"cursor": 9 * H}, now) == [(9 * H, 10 * H)]
    assert due_time_windows(spec, {"cursor": 10 * H}, now) == []
    # The window [10h, 11h) is due only once its end is a minute old.
    assert due_time_windows(spec, {"cursor": 10 * H}, 11 * H + 59_000) == []
    assert due_time_windows(spec, {"cursor": 10 * H}, 11 * H + 60_000) == [(10 * H, 11 * H)]


def test_slice_and_roles() -> None:
    table = _log([0, 5, 10, 10, 20])
    assert slice_time(table, 5, 20).column("time").cast("int64").to_pylist() == [5, 10, 10]
    assert filter_roles(table, ("champion", "canary")).num_rows == 4


def test_row_blocks_keep_only_complete_blocks_and_resume_after_the_cursor() -> None:
    spec = WindowSpec.from_dict({"rows": 2, "backfill": 1})
    table = _log([1, 2, 3, 3, 4])
    blocks = row_blocks(table, spec, first_run=True)
    assert len(blocks) == 1  # backfill 1: the newest complete block only
    window, block = blocks[0]
    assert block.column("request_id").to_pylist() == ["r002", "r003"]
    assert window.cursor == (3, "r003", 0)
    rest = after_cursor(table, window.cursor)
    assert rest.column("request_id").to_pylist() == ["r004"]  # waits for a second row
    assert row_blocks(rest, spec, first_run=False) == []
    # Rows sharing the cursor's millisecond are told apart by request id.
    assert after_cursor(table, (3, "r002", 0)).column("request_id").to_pylist() == [
        "r003",
        "r004",
    ]


def test_explicit_windows() -> None:
    assert parse_window("last:1h", 10 * H).start == 9 * H
    w = parse_window("2026-01-01T00:00:00Z/2026-01-01T01:00:00Z", 0)
    assert (w.end or 0) - (w.start or 0) == H
    assert parse_window("rows:500", 0).rows == 500
    assert parse_window("dataset:wine@3", 0).dataset == "wine@3"
    assert parse_time("1000") == 1000
    with pytest.raises(InvalidInput, match="--window 'yesterday' is not understood; use last:1h"):
        parse_window("yesterday", 0)
    with pytest.raises(InvalidInput, match="the window ends \\(1\\) before it starts \\(5\\)"):
        parse_window("5/1", 0)
    with pytest.raises(InvalidInput, match="window start 'soon' is neither ms since the epoch"):
        parse_window("soon/5", 0)
