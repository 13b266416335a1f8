"""Writing a version's rows to CSV, JSON-lines or JSON, streamed batch by batch."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["write_batches", "write_rows"]

_BATCH_ROWS = 65_536


def write_rows(parquet: Path, target: Path, fmt: str) -> Path:
    """Write the rows of a Parquet file to ``target`` in ``fmt`` (csv, jsonl or json).

    The output is written next to ``target`` and renamed into place, so a failure leaves no
    partial file (and an existing ``target`` untouched).
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    source = pq.ParquetFile(parquet)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        if fmt == "csv":
            with pacsv.CSVWriter(tmp, source.schema_arrow) as writer:
                for batch in source.iter_batches(batch_size=_BATCH_ROWS):
                    writer.write_batch(batch)
        else:
            with tmp.open("w", encoding="utf-8") as out:
                first = True
                if fmt == "json":
                    out.write("[")
                for batch in source.iter_batches(batch_size=_BATCH_ROWS):
                    for row in batch.to_pylist():
                        text = json.dumps(_finite(row), default=_default, allow_nan=False)
                        if fmt == "json":
                            out.write(("\n" if first else ",\n") + text)
                        else:
                            out.write(text + "\n")
                        first = False
                if fmt == "json":
                    out.write("\n]\n")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def write_batches(batches: Iterator[pa.RecordBatch], target: Path) -> int:
    """Write record batches to a .parquet, .csv or .jsonl file (by suffix); return the rows.

    Streamed, and written next to ``target`` then renamed, like :func:`write_rows`.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    suffix = target.suffix.lower()
    if suffix not in (".parquet", ".csv", ".jsonl"):
        raise InvalidInput(
            f"write query results to a .parquet, .csv or .jsonl file, not {target.name!r}"
        )
    target = target.expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    rows = 0
    writer: Any = None
    try:
        with contextlib.ExitStack() as stack:
            out = (
                stack.enter_context(tmp.open("w", encoding="utf-8")) if suffix == ".jsonl" else None
            )
            for batch in batches:
                if suffix == ".jsonl":
                    assert out is not None
                    for row in batch.to_pylist():
                        out.write(json.dumps(_finite(row), default=_default) + "\n")
                else:
                    if writer is None:
                        writer = (
                            pq.ParquetWriter(tmp, batch.schema)
                            if suffix == ".parquet"
                            else pacsv.CSVWriter(tmp, batch.schema)
                        )
                        stack.callback(writer.close)
                    writer.write_batch(batch)
                rows += batch.num_rows
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return rows


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    # JSON has no NaN or infinity: they become null.
    return {
        k: None if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))) else v
        for k, v in row.items()
    }


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
