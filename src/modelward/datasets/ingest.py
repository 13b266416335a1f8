"""Ingest: one streaming pass from a source to an immutable dataset version.

For each batch the source yields, in one pass and bounded memory:

1. the batch is aligned to the first batch's schema (see :class:`_Aligner`);
2. expectations are checked (schema checks on the first batch stop a bad ingest at once);
3. the content digest and the profile are updated;
4. a writer thread encodes it as Parquet straight into the artifact store
   (:class:`~modelward.datasets.blobpipe.BlobPipe`: hashed and stored as it is written, never
   copied through a temporary file).

Then the digest is looked up (same content under this name: the existing version is returned;
its Parquet bytes were the same blob) and the version is recorded in one metadata transaction.
The blob is complete before that transaction, so a crash at any point leaves no version: at
most an unreferenced blob (an ingest that failed its expectations at the end), or a ``.part``
file in the store's ``tmp/`` (killed mid-write), both harmless and safe to collect. An ingest
that fails while reading stores nothing at all.

An unchanged file source is recognised before any parsing: when a version of the same name came
from a source of the same size, the source is hashed first and a version with that fingerprint
is returned. Otherwise the source is hashed while it is parsed, at no extra pass.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modelward.datasets.blobpipe import BlobPipe
from modelward.datasets.identity import ContentHasher, logical_type
from modelward.datasets.sources import ReadContext, Retype, Source
from modelward.datasets.validation import ExpectationChecker, Expectations, ValidationReport
from modelward.entities import ColumnSchema, DatasetVersion, NewDatasetVersion
from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

    from modelward.entities import Blob
    from modelward.store.artifacts.base import ArtifactStore
    from modelward.store.metadata.base import MetadataStore

__all__ = ["IngestProgress", "IngestResult", "Ingestor"]

log = logging.getLogger(__name__)

#: Rows gathered before they are hashed, profiled and written as one Parquet row group.
ROW_GROUP_ROWS = 131_072
#: Most columns widened (re-read) in one ingest before giving up.
MAX_RETYPES = 32


class IngestProgress(Protocol):
    """Receives progress of an ingest (the CLI draws a bar from it)."""

    def start(self, description: str, total: int | None) -> None:
        """A phase begins; ``total`` bytes (or ``None`` when unknown)."""

    def advance(self, amount: int) -> None:
        """``amount`` more bytes were consumed (called from reader threads too)."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What an ingest did.

    Attributes:
        version: The version (new, or the existing one with the same content).
        created: Whether a new version was recorded.
        reused_by: ``fingerprint`` (unchanged source, recognised by hashing it),
            ``digest`` (same content) or ``None``.
        warnings: Messages for the user (mixed-type columns stored as text, skipped rows,
            failed ``warn`` expectations).
        report: The expectation report, when expectations were given.
        seconds: Wall time of the ingest.
    """

    version: DatasetVersion
    created: bool
    reused_by: str | None
    warnings: tuple[str, ...]
    report: ValidationReport | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary (the version without its profile)."""
        return {
            "version": self.version.to_dict(profile=False),
            "created": self.created,
            "reused_by": self.reused_by,
            "warnings": list(self.warnings),
            "report": self.report.to_dict() if self.report is not None else None,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Pass:
    blob: Blob
    digest: str
    rows: int
    schema: tuple[ColumnSchema, ...]
    profile: dict[str, Any]
    report: ValidationReport | None


class Ingestor:
    """Turns sources into stored dataset versions.

    Args:
        store: The metadata store.
        blobs: The artifact store that holds the Parquet files.
        tmp_dir: Where temporary Parquet files are written (default: the system's).
    """

    def __init__(
        self, store: MetadataStore, blobs: ArtifactStore, *, tmp_dir: Path | None = None
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.tmp_dir = Path(tmp_dir) if tmp_dir is not None else Path(tempfile.gettempdir())

    def ingest(
        self,
        name: str,
        source: Source,
        *,
        expectations: Expectations | None = None,
        types: Mapping[str, pa.DataType] | None = None,
        description: str | None = None,
        parent_ids: Sequence[str] = (),
        recipe: Mapping[str, Any] | None = None,
        progress: IngestProgress | None = None,
    ) -> IngestResult:
        """Read ``source`` into a version of ``name`` (or return the identical one).

        Raises:
            SchemaViolation: An ``error`` expectation failed (nothing is stored).
            InvalidInput: The source is empty or unreadable.
        """
        started = time.perf_counter()
        declared = {k: str(v) for k, v in (types or {}).items()}
        fingerprint = _with_types(self._early_fingerprint(name, source, progress), declared)
        if fingerprint is not None:
            existing = self.store.find_dataset_version(name, source_fingerprint=fingerprint)
            if existing is not None:
                report = self._check_existing(existing, expectations)
                return IngestResult(
                    existing,
                    False,
                    "fingerprint",
                    _warnings(report, []),
                    report,
                    time.perf_counter() - started,
                )
        ctx = ReadContext(
            types=dict(types or {}),
            hash_bytes=fingerprint is None and source.hashes_while_reading,
        )
        done = self._read(source, ctx, expectations, progress)
        fingerprint = fingerprint or _with_types(ctx.fingerprint, declared)
        warnings = _warnings(done.report, ctx.warnings)
        existing = self.store.find_dataset_version(name, digest=done.digest)
        if existing is not None:
            # Same content: usually the same Parquet bytes too, so no new blob was kept.
            return IngestResult(
                existing, False, "digest", warnings, done.report, time.perf_counter() - started
            )
        version, created = self.store.create_dataset_version(
            name,
            NewDatasetVersion(
                digest=done.digest,
                rows=done.rows,
                size=done.blob.size,
                artifact_digest=done.blob.digest,
                schema=done.schema,
                profile=done.profile,
                source=source.describe(),
                source_fingerprint=fingerprint,
                parent_ids=tuple(parent_ids),
                recipe=recipe,
                description=description,
            ),
        )
        return IngestResult(
            version,
            created,
            None if created else "digest",
            warnings,
            done.report,
            time.perf_counter() - started,
        )

    # -- steps -----------------------------------------------------------------------------
    def _early_fingerprint(
        self, name: str, source: Source, progress: IngestProgress | None
    ) -> str | None:
        size = source.size_hint()
        if size is None:
            return None
        if source.hashes_while_reading and size not in self.store.latest_source_sizes(name):
            return None  # most likely new data: hash it while parsing instead
        if progress is not None:
            progress.start("hashing source", None)
        return source.fingerprint()

    def _check_existing(
        self, version: DatasetVersion, expectations: Expectations | None
    ) -> ValidationReport | None:
        if expectations is None:
            return None
        import pyarrow.parquet as pq

        from modelward.datasets.storage import parquet_path

        checker = ExpectationChecker(expectations)
        path = parquet_path(self.blobs, version, self.tmp_dir)
        for batch in pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP_ROWS):
            checker.update(batch)
        report = checker.finish()
        report.raise_for_errors(f"{version.ref} (the unchanged source's version)")
        return report

    def _read(
        self,
        source: Source,
        ctx: ReadContext,
        expectations: Expectations | None,
        progress: IngestProgress | None,
    ) -> _Pass:
        for attempt in range(MAX_RETYPES + 1):
            ctx.warnings = [w for w in ctx.warnings if w.startswith("column ")]
            if progress is not None:
                progress.start("reading" if attempt == 0 else "reading again", source.size_hint())
                ctx.on_bytes = progress.advance
            try:
                return _one_pass(source, ctx, expectations, self.blobs)
            except Retype as retype:
                ctx.types = {**ctx.types, retype.column: retype.arrow_type}
                message = (
                    f"column {retype.column!r} holds mixed values ({retype.reason}); "
                    f"stored as {logical_type(retype.arrow_type)}"
                )
                ctx.warnings.append(message)
                log.info("re-reading the source: %s", message)
        raise InvalidInput(
            f"gave up after widening {MAX_RETYPES} columns; declare the column types "
            "(types=, CLI --type COLUMN=TYPE)"
        )


def _with_types(fingerprint: str | None, types: Mapping[str, str]) -> str | None:
    """Fold declared column types into a source fingerprint (they change what is read)."""
    if fingerprint is None or not types:
        return fingerprint
    from modelward.datasets.sources.base import options_digest

    return options_digest({"source": fingerprint, "types": dict(sorted(types.items()))})


def _warnings(report: ValidationReport | None, messages: Sequence[str]) -> tuple[str, ...]:
    out = list(dict.fromkeys(messages))
    if report is not None:
        out.extend(
            f"expectation failed (warn): {r.column or 'rows'} {r.check}: expected {r.expected}, "
            f"observed {r.observed}"
            for r in report.warnings
        )
    return tuple(out)


def _one_pass(
    source: Source, ctx: ReadContext, expectations: Expectations | None, blobs: ArtifactStore
) -> _Pass:
    import pyarrow as pa

    from modelward.profiling import ProfileBuilder

    aligner = _Aligner(ctx.types)
    hasher = ContentHasher()
    profiler = ProfileBuilder()
    checker = ExpectationChecker(expectations) if expectations is not None else None
    nulls: list[int] = []

    def analyse(table: pa.Table) -> None:
        hasher.update(table)
        profiler.update(table)
        if checker is not None:
            checker.update(table)
        for index, column in enumerate(table.columns):
            nulls[index] += column.null_count

    # Three threads: this one pulls batches from the source (so parsing never waits for the
    # rest), one hashes, profiles and checks, one encodes Parquet into the artifact store.
    parquet: _ParquetSink | None = None
    stages: list[_Stage] = []
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    try:
        for raw in source.read(ctx):
            batch = aligner.align(raw)
            if parquet is None:
                if checker is not None:
                    checker.start(batch.schema)
                    if checker.schema_failed:
                        checker.schema_report().raise_for_errors("the data")
                nulls = [0] * batch.num_columns
                parquet = _ParquetSink(BlobPipe(blobs), batch.schema)
                stages = [
                    _Stage("modelward-parquet", parquet.write),
                    _Stage("modelward-profile", analyse),
                ]
            if batch.num_rows == 0:
                continue
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= ROW_GROUP_ROWS:
                table = pa.Table.from_batches(pending)
                pending, pending_rows = [], 0
                for stage in stages:
                    stage.put(table)
        if parquet is None:
            raise InvalidInput(f"{_what(source)} has no rows; there is nothing to ingest")
        if pending:
            table = pa.Table.from_batches(pending)
            for stage in stages:
                stage.put(table)
        for stage in stages:
            stage.close()
        blob = parquet.close()
    except BaseException:
        for stage in stages:
            stage.abort()
        if parquet is not None:
            parquet.abort()
        raise
    if hasher.rows == 0:
        raise InvalidInput(f"{_what(source)} has no rows; there is nothing to ingest")
    report = checker.finish() if checker is not None else None
    if report is not None:
        report.raise_for_errors("the data")
    schema = tuple(
        ColumnSchema(field.name, logical_type(field.type), nulls[i] > 0)
        for i, field in enumerate(aligner.schema or [])
    )
    return _Pass(blob, hasher.hexdigest(), hasher.rows, schema, profiler.finish().to_dict(), report)


def _what(source: Source) -> str:
    info = source.describe()
    where = info.get("path") or info.get("url") or info.get("dataset") or info.get("kind")
    return f"the source {where}"


class _Aligner:
    """Gives every batch the first batch's column names and types.

    The first batch fixes the schema: dictionary columns are decoded, empty column names become
    ``column_<n>``, declared types are applied. A later batch whose column has another type is
    cast when that loses nothing (integers into floats, anything into text, all-missing into
    anything); otherwise :class:`Retype` asks for the source to be read again with a type that
    holds both.
    """

    def __init__(self, types: Mapping[str, pa.DataType]) -> None:
        self.types = dict(types)
        self.schema: pa.Schema | None = None
        self._raw_schema: pa.Schema | None = None
        self._names: list[str] = []
        self._renamed = False

    def align(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        import pyarrow as pa

        if self.schema is None:
            return self._first(batch)
        if batch.schema.names != self._names:
            raise InvalidInput(
                f"the source's columns changed part-way: {', '.join(batch.schema.names)} after "
                f"{', '.join(self._names)}; every file of a folder must have the same columns"
            )
        if batch.schema.equals(self.schema):
            return batch
        if self._renamed and batch.schema.equals(self._raw_schema):
            return batch.rename_columns(self.schema.names)
        arrays = []
        for index, target in enumerate(self.schema):
            array = batch.column(index)
            if pa.types.is_dictionary(array.type):
                array = array.dictionary_decode()
            arrays.append(self._fit(target, array))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _first(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        import pyarrow as pa

        self._names = list(batch.schema.names)
        self._raw_schema = batch.schema
        names = [n if n != "" else f"column_{i + 1}" for i, n in enumerate(self._names)]
        self._renamed = names != self._names
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise InvalidInput(f"the source repeats column name(s) {', '.join(dupes)}; rename them")
        unknown = sorted(set(self.types) - set(names))
        if unknown:
            raise InvalidInput(
                f"types were declared for column(s) the source lacks: {', '.join(unknown)}; "
                f"its columns are: {', '.join(names)}"
            )
        arrays = []
        for name, array in zip(names, batch.columns, strict=True):
            if pa.types.is_dictionary(array.type):
                array = array.dictionary_decode()
            declared = self.types.get(name)
            if declared is not None and array.type != declared:
                array = _cast(name, array, declared, declared=True)
            arrays.append(array)
        aligned = pa.RecordBatch.from_arrays(arrays, names=names)
        self.schema = aligned.schema
        return aligned

    def _fit(self, target: pa.Field, array: pa.Array) -> pa.Array:
        import pyarrow as pa

        have, want = array.type, target.type
        if have == want:
            return array
        if pa.types.is_null(have) or logical_type(have) == logical_type(want):
            return array.cast(want)
        if pa.types.is_null(want):
            raise Retype(target.name, have, f"first values were all missing, then {have}")
        if pa.types.is_string(want) or (
            pa.types.is_floating(want) and (pa.types.is_integer(have) or pa.types.is_floating(have))
        ):
            return _cast(target.name, array, want, declared=False)
        if pa.types.is_integer(want) and pa.types.is_floating(have):
            raise Retype(target.name, pa.float64(), f"{have} values after {want}")
        if pa.types.is_integer(want) and pa.types.is_integer(have):
            raise Retype(target.name, pa.int64(), f"{have} values after {want}")
        raise Retype(target.name, pa.string(), f"{have} values after {want}")


def _cast(name: str, array: pa.Array, arrow_type: pa.DataType, *, declared: bool) -> pa.Array:
    import pyarrow as pa

    try:
        return array.cast(arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        if declared:
            raise InvalidInput(
                f"column {name!r} cannot be read as {arrow_type}: {str(exc).splitlines()[0]}"
            ) from None
        raise Retype(name, pa.string(), f"{array.type} values do not fit {arrow_type}") from None


class _Stage:
    """A thread applying ``work`` to each table put to it, in order.

    The queue holds at most two tables, which bounds memory; an error in ``work`` is raised
    in the caller's thread at the next :meth:`put` or at :meth:`close`.
    """

    def __init__(self, name: str, work: Callable[[pa.Table], None]) -> None:
        self._work = work
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (table := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                self._work(table)
            except BaseException as exc:
                self._error = exc

    def put(self, table: pa.Table) -> None:
        """Queue a table (waits while two are queued)."""
        self._check()
        self._queue.put(table)

    def close(self) -> None:
        """Wait until every queued table was processed."""
        self._queue.put(None)
        self._thread.join()
        self._check()

    def abort(self) -> None:
        """Stop after the current table; never raises."""
        self._error = self._error or RuntimeError("aborted")
        self._queue.put(None)
        self._thread.join()

    def _check(self) -> None:
        if self._error is not None:
            raise self._error


class _ParquetSink:
    """A Parquet writer into a :class:`BlobPipe` (dictionary pages for text columns only)."""

    def __init__(self, pipe: BlobPipe, schema: pa.Schema) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pipe = pipe
        dictionary = [
            f.name
            for f in schema
            if pa.types.is_string(f.type)
            or pa.types.is_large_string(f.type)
            or pa.types.is_binary(f.type)
        ]
        # Dictionary pages pay off for text; for floats they cost time and rarely space.
        self._writer = pq.ParquetWriter(
            pipe, schema, compression="snappy", use_dictionary=dictionary or False
        )

    def write(self, table: pa.Table) -> None:
        """Append a table as one row group."""
        self._writer.write_table(table, row_group_size=table.num_rows)

    def close(self) -> Blob:
        """Finish the file and return the stored blob."""
        self._writer.close()
        return self._pipe.finish()

    def abort(self) -> None:
        """Give up: the store discards the partial file (an aborted ingest stores no blob)."""
        self._pipe.abort()
