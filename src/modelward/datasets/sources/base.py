"""What every data source provides: record batches, a description, and a cheap identity.

A source yields ``pyarrow.RecordBatch`` objects in order. The ingest pipeline
(:mod:`modelward.datasets.ingest`) writes them to Parquet, hashes and profiles them in one pass.
When a column's type turns out wrong part-way (a CSV column read as integers meets ``2.5``, an
API page returns text where numbers were), the source raises :class:`Retype`; the pipeline
discards what it wrote and reads the source again with the wider type.
"""

from __future__ import annotations

import abc
import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["HashingReader", "ReadContext", "Retype", "Source", "widen_for"]

log = logging.getLogger(__name__)


class Retype(Exception):
    """A column needs a wider type; the pipeline restarts the read with it.

    Attributes:
        column: Column name.
        arrow_type: The type to read it as from now on.
        reason: Why (logged, and reported as an ingest warning).
    """

    def __init__(self, column: str, arrow_type: pa.DataType, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.arrow_type = arrow_type
        self.reason = reason


@dataclass
class ReadContext:
    """What the pipeline tells a source about one read.

    Attributes:
        types: Column name -> Arrow type to read it as (user declarations and widenings).
        on_bytes: Called with the number of source bytes consumed since the last call.
        hash_bytes: Hash the source bytes while reading and leave the fingerprint in
            :attr:`fingerprint` (sources without stable bytes ignore it).
        fingerprint: Set by the source at the end of a read with ``hash_bytes``.
        warnings: Messages for the user (skipped rows, …), added by the source.
    """

    types: Mapping[str, pa.DataType] = field(default_factory=dict)
    on_bytes: Callable[[int], None] | None = None
    hash_bytes: bool = False
    fingerprint: str | None = None
    warnings: list[str] = field(default_factory=list)


class Source(abc.ABC):
    """A place data is read from."""

    #: Short name of the source kind, recorded on versions (``file``, ``http``, ``sql``, …).
    kind: ClassVar[str]

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Return a JSON description for the version's ``source`` (never secrets)."""

    @abc.abstractmethod
    def read(self, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        """Yield the data as record batches.

        Raises:
            Retype: A column needs a wider type than the one it is being read as.
            InvalidInput, NotFound, Unavailable: With a message saying what to fix.
        """

    def size_hint(self) -> int | None:
        """Total bytes the read will consume (for progress bars), if known."""
        return None

    def fingerprint(self) -> str | None:
        """Hash the source's bytes and read options now, or ``None`` if it has no stable bytes.

        Costs one read of the source; the pipeline calls it only when an unchanged source is
        likely (see :meth:`DatasetStore.latest_source_sizes`).
        """
        return None

    @property
    def hashes_while_reading(self) -> bool:
        """Whether :meth:`read` can compute the fingerprint in the same pass."""
        return False


def options_digest(options: Mapping[str, Any]) -> str:
    """Return a short stable digest of read options (part of a source fingerprint)."""
    import json

    text = json.dumps(options, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class HashingReader:
    """A binary file wrapper that hashes and counts what is read through it.

    pyarrow reads through it from its I/O thread; ``hashlib`` releases the GIL on large
    buffers, so hashing overlaps parsing.
    """

    def __init__(
        self, raw: BinaryIO, *, hasher: Any | None, on_bytes: Callable[[int], None] | None
    ) -> None:
        self._raw = raw
        self._hasher = hasher
        self._on_bytes = on_bytes
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            if self._hasher is not None:
                self._hasher.update(data)
            if self._on_bytes is not None:
                self._on_bytes(len(data))
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def tell(self) -> int:
        return int(self._raw.tell())

    def close(self) -> None:
        self.closed = True
        self._raw.close()

    def __enter__(self) -> HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def widen_for(current: pa.DataType, value: str | None) -> pa.DataType:
    """Return the type a column read as ``current`` needs to hold ``value`` (a text value).

    ``null`` becomes the narrowest of int64, float64, bool and string that parses ``value``;
    integers become float64 when ``value`` is a number; anything else becomes string.
    """
    import pyarrow as pa

    text = (value or "").strip()
    if pa.types.is_null(current):
        if _parses(int, text):
            return pa.int64()
        if _parses(float, text):
            return pa.float64()
        if text.lower() in {"true", "false"}:
            return pa.bool_()
        return pa.string()
    if pa.types.is_integer(current) and _parses(float, text):
        return pa.float64()
    return pa.string()


def _parses(kind: Callable[[str], Any], text: str) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return bool(text)
