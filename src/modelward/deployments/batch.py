"""Batch inference over a file: stream Parquet or CSV in chunks, predict, write Parquet.

Memory stays bounded by the chunk size whatever the file size: rows are read
``chunk_rows`` at a time, predicted, and appended to the output file with a Parquet writer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from modelward.errors import InvalidInput, NotFound

__all__ = ["count_rows", "predict_file"]


def _batches(path: Path, chunk_rows: int) -> Iterator[Any]:
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=chunk_rows)
    elif suffix in {".csv", ".txt"}:
        import pyarrow.csv as pcsv

        reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22))
        pending: list[Any] = []
        rows = 0
        for batch in reader:
            pending.append(batch)
            rows += batch.num_rows
            while rows >= chunk_rows:
                import pyarrow as pa

                table = pa.Table.from_batches(pending)
                yield from table.slice(0, chunk_rows).to_batches(max_chunksize=chunk_rows)
                rest = table.slice(chunk_rows)
                pending, rows = rest.to_batches(), rest.num_rows
        if rows:
            import pyarrow as pa

            yield from pa.Table.from_batches(pending).to_batches(max_chunksize=chunk_rows)
    else:
        raise InvalidInput(
            f"cannot read {path.name}: use a .parquet or .csv file", details={"path": str(path)}
        )


def count_rows(path: Path) -> int | None:
    """Rows in a Parquet file (from its footer); ``None`` for CSV (unknown without reading)."""
    if path.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def predict_file(
    predictor: Any,
    input_path: str | Path,
    output_path: str | Path,
    *,
    chunk_rows: int = 50_000,
    keep_inputs: bool = True,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Predict every row of ``input_path`` and write ``output_path`` (Parquet); return rows.

    The output holds the input columns (unless ``keep_inputs`` is false) and a ``prediction``
    column (one ``prediction_<i>`` column per output when the model returns several).

    Args:
        predictor: A loaded model (``client.models.load_model(...)``).
        input_path: A ``.parquet`` or ``.csv`` file.
        output_path: The Parquet file to write (replaced if it exists).
        chunk_rows: Rows read and predicted at a time.
        keep_inputs: Copy the input columns to the output.
        progress: Called with the rows done after each chunk.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = Path(input_path)
    if not source.is_file():
        raise NotFound(f"no input file {source}", details={"path": str(source)})
    if chunk_rows < 1:
        raise InvalidInput(f"chunk_rows must be at least 1, not {chunk_rows}")
    target = Path(output_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    writer: Any = None
    done = 0
    try:
        for batch in _batches(source, chunk_rows):
            columns = {
                name: batch.column(i).to_numpy(zero_copy_only=False)
                for i, name in enumerate(batch.schema.names)
            }
            outputs = np.asarray(predictor.predict(columns))
            out: dict[str, Any] = {}
            if keep_inputs:
                out.update(zip(batch.schema.names, batch.columns, strict=True))
            if outputs.ndim == 1:
                out["prediction"] = pa.array(outputs)
            else:
                flat = outputs.reshape(outputs.shape[0], -1)
                out.update({f"prediction_{j}": pa.array(flat[:, j]) for j in range(flat.shape[1])})
            table = pa.table(out)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
            done += batch.num_rows
            if progress is not None:
                progress(done)
        if writer is None:
            raise InvalidInput(f"{source.name} has no rows to predict")
        writer.close()
        writer = None
        tmp.replace(target)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return done
