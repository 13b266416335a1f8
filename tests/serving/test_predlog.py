"""The prediction log: every request appended to Parquet off the hot path; a full queue drops."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from modelward.serving.predlog import PredictionLogWriter
from tests.serving.helpers import make_state, record, running

pytestmark = pytest.mark.anyio


class Files:
    def __init__(self, fail: bool = False) -> None:
        self.files: dict[str, bytes] = {}
        self.fail = fail

    def __call__(self, path: str, data: bytes) -> None:
        if self.fail:
            raise ConnectionError("bucket unreachable")
        self.files[path] = data

    def table(self):  # type: ignore[no-untyped-def]
        import pyarrow as pa

        return pa.concat_tables([pq.read_table(io.BytesIO(d)) for d in self.files.values()])


async def test_every_request_is_logged_with_inputs_outputs_and_latency() -> None:
    files = Files()
    writer = PredictionLogWriter("m", files, roll_rows=1000, roll_seconds=60)
    state = make_state(predlog=writer)
    async with running(state) as client:
        r1 = await client.post(
            "/predict", json=[record(1), record(2)], headers={"x-request-id": "req-1"}
        )
        r2 = await client.post("/invocations", json={"instances": [[3, 0, 0, 0]]})
    # closing the app flushed the log
    assert r1.status_code == r2.status_code == 200
    table = files.table().sort_by([("request_id", "ascending"), ("row", "ascending")])
    assert table.num_rows == 3
    rows = table.to_pylist()
    first = next(r for r in rows if r["request_id"] == "req-1" and r["row"] == 1)
    assert first["a"] == 2.0
    assert first["prediction"] == 2.0
    assert first["model_name"] == "m"
    assert first["model_version"] == 1
    assert first["role"] == "champion"
    assert first["latency_ms"] >= 0
    assert {r["request_id"] for r in rows} == {"req-1", r2.headers["x-request-id"]}
    assert all(p.startswith("date=") and p.endswith(".parquet") for p in files.files)


def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    files = Files()
    writer = PredictionLogWriter("m", files, max_queue_rows=5)
    x = np.zeros((3, 4))
    y = np.zeros(3)
    assert writer.append("m", 1, "champion", ["a", "b", "c", "d"], x, y, ["r1"], [3], [1.0])
    assert not writer.append("m", 1, "champion", ["a", "b", "c", "d"], x, y, ["r2"], [3], [1.0])
    assert writer.dropped_rows == 3
    writer.close()
    assert writer.written_rows == 3
    assert len(files.files) == 1


def test_an_unreachable_store_is_retried_then_counted_at_shutdown() -> None:
    files = Files(fail=True)
    writer = PredictionLogWriter("m", files, roll_rows=1, roll_seconds=0.1)
    writer.start()
    writer.append("m", 1, "champion", ["a"], np.zeros((2, 1)), np.zeros(2), ["r"], [2], [1.0])
    writer.close(timeout=10)
    assert writer.written_rows == 0
    assert writer.dropped_rows == 2


def test_the_log_is_read_back_with_feedback(tmp_path: Path, sqlite_uri: str) -> None:
    from modelward.client import Client
    from modelward.config import Settings
    from modelward.deployments.predictions import predictions_scope

    with Client(
        sqlite_uri, artifacts=str(tmp_path / "a"), settings=Settings.defaults(system_metrics=False)
    ) as client:
        scope = predictions_scope("svc")
        writer = PredictionLogWriter("svc", lambda p, d: client.artifacts.log_bytes(scope, d, p))
        writer.append(
            "m",
            4,
            "champion",
            ["a", "time"],
            np.array([[1.0, 5.0], [2.0, 6.0]]),
            np.array([0, 1]),
            ["r1"],
            [2],
            [3.5],
        )
        writer.append(
            "m",
            4,
            "champion",
            ["a", "time"],
            np.array([[3.0, 7.0]]),
            np.array([1]),
            ["r2"],
            [1],
            [1.0],
        )
        writer.close()
        service = client.deployments
        service.add_feedback("svc", {"r1": [0, 0], "r2": 1})
        table = service.read_predictions("svc", with_feedback=True)
        assert table.column_names[:8] == [
            "request_id",
            "row",
            "time",
            "model_name",
            "model_version",
            "role",
            "latency_ms",
            "prediction",
        ]
        assert "input.time" in table.column_names  # a feature named like a reserved column
        assert table.column("label").to_pylist() == [0, 0, 1]
        assert table.column("a").to_pylist() == [1.0, 2.0, 3.0]
        late = service.read_predictions("svc", start=table.column("time")[0].value + 10**9)
        assert late.num_rows == 0
