"""The content digest of a dataset version: what "the same data" means.

A version's digest is a SHA-256 over a canonical form of its *data*, not over the bytes of any
file: the Parquet bytes pyarrow writes change between pyarrow versions, and the same table can
arrive as CSV, Parquet, a DataFrame or an API response. Two versions have equal digests exactly
when they have the same column names, the same logical column types and the same values, row by
row, in the same order (``1.0`` and ``1`` differ when the types differ; so do row orders).

The canonical form is independent of how rows are batched. Each column feeds three running
hashes:

- ``values``: the values, with missing ones replaced by zero (or ``""``), as little-endian
  fixed-width bytes for numeric, boolean (one byte), temporal and decimal columns; for strings
  and binaries the concatenated bytes;
- ``lengths``: for strings and binaries, each value's byte length as little-endian int64;
- ``nulls``: the row numbers of missing values as little-endian int64.

Columns of other types (lists, structs, maps) are hashed through their JSON rendering. The
digest is SHA-256 of a JSON document holding the format tag, the row count, the schema (name and
logical type per column) and each column's three hex digests.

Separately, a *source fingerprint* (SHA-256 of a file's bytes plus the read options) lets an
unchanged file be recognised by hashing it alone, without parsing; see
:mod:`modelward.datasets.sources.files`.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DIGEST_FORMAT", "ContentHasher", "logical_type"]

#: Tag of the canonical form; bump it if the form ever changes.
DIGEST_FORMAT = "modelward-data/1"


def logical_type(arrow_type: pa.DataType) -> str:
    """Return the logical type name of an Arrow type (large/view variants folded in).

    ``large_string`` and ``string_view`` report ``string``, ``large_binary`` reports ``binary``,
    dictionary types report their value type; everything else is ``str(type)``.
    """
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    if pa.types.is_large_list(t):
        return f"list<{logical_type(t.value_type)}>"
    return str(t)


class _ColumnHash:
    __slots__ = ("lengths", "nulls", "values")

    def __init__(self) -> None:
        self.values = hashlib.sha256()
        self.lengths = hashlib.sha256()
        self.nulls = hashlib.sha256()

    def hexdigests(self) -> list[str]:
        return [self.values.hexdigest(), self.lengths.hexdigest(), self.nulls.hexdigest()]


class ContentHasher:
    """Computes the content digest of a table fed batch by batch.

    Example::

        hasher = ContentHasher()
        for batch in batches:
            hasher.update(batch)
        digest = hasher.hexdigest()
    """

    def __init__(self) -> None:
        self._names: list[str] | None = None
        self._types: list[str] = []
        self._columns: list[_ColumnHash] = []
        self._rows = 0

    @property
    def rows(self) -> int:
        """Rows hashed so far."""
        return self._rows

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add the next rows (every batch must have the first batch's columns and types)."""
        if self._names is None:
            self._names = list(batch.schema.names)
            self._types = [logical_type(f.type) for f in batch.schema]
            self._columns = [_ColumnHash() for _ in self._names]
        for index, column in enumerate(batch.columns):
            chunks = column.chunks if hasattr(column, "chunks") else [column]
            offset = self._rows
            for chunk in chunks:
                _hash_array(chunk, self._columns[index], offset)
                offset += len(chunk)
        self._rows += batch.num_rows

    def hexdigest(self) -> str:
        """Return the digest of every row fed so far."""
        document = {
            "format": DIGEST_FORMAT,
            "rows": self._rows,
            "schema": [[n, t] for n, t in zip(self._names or [], self._types, strict=True)],
            "columns": [c.hexdigests() for c in self._columns],
        }
        text = json.dumps(document, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hash_array(array: pa.Array, state: _ColumnHash, offset: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(array) == 0:
        return
    t = array.type
    if pa.types.is_dictionary(t):
        array = array.dictionary_decode()
        t = array.type
    if array.null_count:
        # Row numbers of missing values, global across batches.
        positions = np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False))
        state.nulls.update((positions.astype("<i8") + offset).tobytes())
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        _hash_binary(
            array.cast(pa.large_string()) if not pa.types.is_large_string(t) else array, state, ""
        )
        return
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        _hash_binary(
            array.cast(pa.large_binary()) if not pa.types.is_large_binary(t) else array, state, b""
        )
        return
    if pa.types.is_boolean(t):
        values = pc.fill_null(array, False) if array.null_count else array
        state.values.update(values.to_numpy(zero_copy_only=False).astype(np.uint8).tobytes())
        return
    if pa.types.is_null(t):
        return
    width = _byte_width(t)
    if width:
        if array.null_count:
            array = pc.fill_null(array, pa.scalar(0, type=t))
        buffer = array.buffers()[1]
        view = memoryview(buffer)[array.offset * width : (array.offset + len(array)) * width]
        state.values.update(view)
        return
    # Nested and other rare types: a JSON rendering per value, length-prefixed by the lengths.
    for value in array.to_pylist():
        text = json.dumps(value, sort_keys=True, default=str).encode("utf-8")
        state.lengths.update(len(text).to_bytes(8, "little"))
        state.values.update(text)


def _byte_width(arrow_type: pa.DataType) -> int:
    """Bytes per value of a fixed-width, byte-aligned type; 0 for anything else."""
    import pyarrow as pa

    if pa.types.is_nested(arrow_type):
        return 0
    try:
        bits = int(arrow_type.bit_width)
    except ValueError:  # variable width
        return 0
    return bits // 8 if bits and bits % 8 == 0 else 0


def _hash_binary(array: Any, state: _ColumnHash, empty: Any) -> None:
    import numpy as np
    import pyarrow.compute as pc

    if array.null_count:
        array = pc.fill_null(array, empty)
    offsets = np.frombuffer(array.buffers()[1], dtype="<i8")[
        array.offset : array.offset + len(array) + 1
    ]
    state.lengths.update(np.diff(offsets).astype("<i8", copy=False).tobytes())
    start, end = int(offsets[0]), int(offsets[-1])
    state.values.update(memoryview(array.buffers()[2])[start:end])
