"""Files and folders of CSV, Parquet, JSON and JSON-lines.

CSV is streamed with pyarrow's block reader (1 MiB blocks: memory stays flat whatever the file
size), Parquet batch by batch, JSON-lines in chunks of lines; a plain JSON document is read whole
(JSON arrays cannot be streamed without a streaming parser; use JSON-lines for large data).
A folder is read file by file in sorted order; every file must have the folder's format.

Source bytes are hashed while they are read (CSV, JSON) so that the next ingest of an unchanged
file can be recognised by hashing it alone; see :mod:`modelward.datasets.identity`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, cast

from modelward.datasets.sources.base import (
    HashingReader,
    ReadContext,
    Retype,
    Source,
    options_digest,
    widen_for,
)
from modelward.datasets.sources.records import find_records, records_to_table
from modelward.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMATS", "FileOptions", "FileSource"]

#: Format name -> file name suffixes (a trailing ``.gz`` is also accepted).
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".tsv", ".txt"),
    "parquet": (".parquet", ".pq"),
    "json": (".json",),
    "jsonl": (".jsonl", ".ndjson"),
}
#: Source bytes per CSV block: memory per block is roughly this times the column count.
CSV_BLOCK_SIZE = 1 << 20
#: Lines per JSON-lines chunk.
JSONL_CHUNK_LINES = 50_000
#: Rows per Parquet batch read.
PARQUET_BATCH_ROWS = 65_536

_CONVERSION = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (\S+): invalid value '(.*)'",
    re.DOTALL,
)
_UTF8 = re.compile(r"In CSV column #(\d+): .*invalid UTF8", re.DOTALL)
_COLUMNS = re.compile(r"Expected (\d+) columns, got (\d+): ?(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class FileOptions:
    r"""How to read files.

    Attributes:
        format: ``csv``, ``parquet``, ``json`` or ``jsonl``; default: from the suffix.
        delimiter: CSV field separator (default ``,``; ``\\t`` for ``.tsv`` files).
        encoding: Text encoding of CSV and JSON files.
        header: Whether a CSV file's first line names the columns.
        on_bad_lines: CSV rows with the wrong number of fields: ``error`` (default) or
            ``skip`` (each skipped row is counted in a warning).
        records_path: Dotted key path to the list of records in a JSON document.
        null_values: CSV values read as missing (default: pyarrow's list: ``""``, ``NA``,
            ``null``, ``NaN``, ...).
    """

    format: str | None = None
    delimiter: str | None = None
    encoding: str = "utf-8"
    header: bool = True
    on_bad_lines: Literal["error", "skip"] = "error"
    records_path: str | None = None
    null_values: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise InvalidInput(
                f"unknown file format {self.format!r}; use one of {', '.join(FORMATS)}"
            )
        if self.on_bad_lines not in ("error", "skip"):
            raise InvalidInput(f"on_bad_lines must be 'error' or 'skip', not {self.on_bad_lines!r}")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise InvalidInput(f"the delimiter must be one character, not {self.delimiter!r}")
        try:
            import codecs

            codecs.lookup(self.encoding)
        except LookupError:
            raise InvalidInput(f"unknown text encoding {self.encoding!r}") from None


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for fmt, suffixes in FORMATS.items():
        if name.endswith(suffixes):
            return fmt
    return None


class FileSource(Source):
    """A CSV, Parquet, JSON or JSON-lines file, or a folder of such files.

    Args:
        path: File or folder.
        options: How to read it.
    """

    kind = "file"

    def __init__(self, path: str | Path, options: FileOptions | None = None) -> None:
        self.path = Path(path).expanduser()
        self.options = options or FileOptions()
        if not self.path.exists():
            raise NotFound(
                f"no such file or folder: {self.path}; check the path", details={"path": str(path)}
            )
        if self.path.is_dir():
            self.files = self._folder_files()
        else:
            self.files = [self.path]
        self.format = self.options.format or self._detect_format()

    def _folder_files(self) -> list[Path]:
        files = sorted(
            p
            for p in self.path.rglob("*")
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(self.path).parts)
        )
        wanted = self.options.format
        files = [p for p in files if _format_of(p) is not None and wanted in (None, _format_of(p))]
        if not files:
            kinds = wanted or "CSV, Parquet, JSON or JSON-lines"
            raise InvalidInput(
                f"the folder {self.path} holds no {kinds} files (by their names: "
                f"{', '.join(s for f in FORMATS.values() for s in f)}, optionally .gz)"
            )
        return files

    def _detect_format(self) -> str:
        formats = {_format_of(p) for p in self.files}
        if None in formats:
            raise InvalidInput(
                f"cannot tell the format of {self.files[0]} from its name; pass format= "
                f"(CLI --format) as one of {', '.join(FORMATS)}"
            )
        if len(formats) > 1:
            raise InvalidInput(
                f"the folder {self.path} mixes formats ({', '.join(sorted(map(str, formats)))}); "
                "ingest one format at a time (pass format= to pick one)"
            )
        return str(formats.pop())

    # -- description -----------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        options = {k: v for k, v in asdict(self.options).items() if v is not None}
        options["format"] = self.format
        return {
            "kind": self.kind,
            "path": str(self.path.resolve()),
            "files": len(self.files),
            "bytes": self.size_hint(),
            "options": options,
        }

    def size_hint(self) -> int:
        return sum(p.stat().st_size for p in self.files)

    def _options_digest(self) -> str:
        options = asdict(self.options)
        options["format"] = self.format
        return options_digest(options)

    def fingerprint(self) -> str:
        hashes = []
        for file in self.files:
            h = hashlib.sha256()
            with _open_binary(file) as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            hashes.append(h.hexdigest())
        return self._combine(hashes)

    def _combine(self, hashes: list[str]) -> str:
        names = [
            p.relative_to(self.path).as_posix() if self.path.is_dir() else "" for p in self.files
        ]
        return options_digest(
            {
                "files": [[n, h] for n, h in zip(names, hashes, strict=True)],
                "options": self._options_digest(),
            }
        )

    @property
    def hashes_while_reading(self) -> bool:
        return self.format != "parquet"

    # -- reading ---------------------------------------------------------------------------
    def read(self, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        hashes: list[str] = []
        for file in self.files:
            hasher = hashlib.sha256() if ctx.hash_bytes and self.hashes_while_reading else None
            if self.format == "parquet":
                yield from self._parquet(file, ctx)
            else:
                with _open_binary(file) as raw:
                    stream = HashingReader(raw, hasher=hasher, on_bytes=ctx.on_bytes)
                    reader = {"csv": self._csv, "json": self._json, "jsonl": self._jsonl}
                    yield from reader[self.format](file, stream, ctx)
            if hasher is not None:
                hashes.append(hasher.hexdigest())
        if hashes:
            ctx.fingerprint = self._combine(hashes)

    def _text_stream(self, file: Path, stream: HashingReader) -> BinaryIO:
        if file.name.lower().endswith(".gz"):
            raw: Any = stream
            return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))
        return cast(BinaryIO, stream)

    def _csv(self, file: Path, stream: HashingReader, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        opts = self.options
        delimiter = opts.delimiter or (
            "\t" if file.name.lower().endswith((".tsv", ".tsv.gz")) else ","
        )
        skipped: list[Any] = []

        def on_bad_row(row: Any) -> str:
            skipped.append(row)
            return "skip"

        read_options = pacsv.ReadOptions(
            block_size=CSV_BLOCK_SIZE,
            encoding=opts.encoding,
            autogenerate_column_names=not opts.header,
        )
        parse_options = pacsv.ParseOptions(
            delimiter=delimiter,
            invalid_row_handler=on_bad_row if opts.on_bad_lines == "skip" else None,
        )
        convert = {"column_types": dict(ctx.types), "strings_can_be_null": True}
        if opts.null_values is not None:
            convert["null_values"] = list(opts.null_values)
        try:
            reader = pacsv.open_csv(
                self._text_stream(file, stream),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=pacsv.ConvertOptions(**convert),
            )
        except pa.ArrowInvalid as exc:
            raise self._csv_error(file, exc, None) from None
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise self._read_error(file, exc) from None
        schema = reader.schema
        for field in schema:
            # A text file has no binary columns: pyarrow infers binary when the bytes of a
            # whole column are not valid in the encoding.
            if pa.types.is_binary(field.type) and field.name not in ctx.types:
                raise InvalidInput(
                    f"{file}: column {field.name!r} is not valid {opts.encoding} text; pass the "
                    "file's encoding, e.g. encoding='latin-1' (CLI --encoding latin-1)",
                    details={"path": str(file), "column": field.name},
                )
        try:
            yield from reader
        except pa.ArrowInvalid as exc:
            raise self._csv_error(file, exc, schema) from None
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise self._read_error(file, exc) from None
        if skipped:
            first = skipped[0]
            ctx.warnings.append(
                f"{file.name}: skipped {len(skipped)} malformed row(s) with the wrong number of "
                f"fields (first: {first.actual_columns} fields where {first.expected_columns} "
                f"were expected: {first.text[:80]!r})"
            )

    def _csv_error(self, file: Path, exc: Exception, schema: pa.Schema | None) -> Exception:
        text = str(exc)
        if "Empty CSV file" in text:
            return InvalidInput(f"{file} is empty; there is nothing to ingest")
        match = _CONVERSION.search(text)
        if match and schema is not None:
            field = schema.field(int(match.group(1)))
            return Retype(
                field.name,
                widen_for(field.type, match.group(3)),
                f"value {match.group(3)!r} is not {match.group(2)}",
            )
        match = _UTF8.search(text)
        if match:
            column = schema.field(int(match.group(1))).name if schema is not None else "?"
            return InvalidInput(
                f"{file}: column {column!r} is not valid {self.options.encoding} text; pass the "
                "file's encoding, e.g. encoding='latin-1' (CLI --encoding latin-1)",
                details={"path": str(file), "column": column},
            )
        match = _COLUMNS.search(text)
        if match:
            return InvalidInput(
                f"{file}: a row has {match.group(2)} fields where the header has "
                f"{match.group(1)} ({match.group(3)[:80]!r}); fix the file, or skip such rows "
                "with on_bad_lines='skip' (CLI --on-bad-lines skip)",
                details={"path": str(file)},
            )
        return InvalidInput(f"{file} is not readable as CSV: {text.splitlines()[0]}")

    def _read_error(self, file: Path, exc: Exception) -> Exception:
        if isinstance(exc, UnicodeDecodeError):
            return InvalidInput(
                f"{file} is not valid {self.options.encoding} text (byte {exc.start}); pass the "
                "file's encoding, e.g. encoding='latin-1' (CLI --encoding latin-1)"
            )
        if isinstance(exc, gzip.BadGzipFile | EOFError):
            return InvalidInput(f"{file} is not a complete gzip file: {exc}")
        return InvalidInput(f"cannot read {file}: {exc}")

    def _parquet(self, file: Path, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(file)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInput(f"{file} is not a readable Parquet file: {exc}") from None
        total_rows = max(parquet.metadata.num_rows, 1)
        size = file.stat().st_size
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            if ctx.on_bytes is not None:
                ctx.on_bytes(int(size * batch.num_rows / total_rows))
            yield batch

    def _json(
        self, file: Path, stream: HashingReader, ctx: ReadContext
    ) -> Iterator[pa.RecordBatch]:
        text = io.TextIOWrapper(self._text_stream(file, stream), encoding=self.options.encoding)
        try:
            document = json.load(text)
        except UnicodeDecodeError as exc:
            raise self._read_error(file, exc) from None
        except json.JSONDecodeError as exc:
            if not exc.doc.strip():
                raise InvalidInput(f"{file} is empty; there is nothing to ingest") from None
            raise InvalidInput(
                f"{file} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        records = find_records(document, self.options.records_path, str(file))
        table = records_to_table(records, ctx.types, ctx.warnings, file.name)
        yield from table.to_batches(max_chunksize=PARQUET_BATCH_ROWS)

    def _jsonl(
        self, file: Path, stream: HashingReader, ctx: ReadContext
    ) -> Iterator[pa.RecordBatch]:
        text = io.TextIOWrapper(self._text_stream(file, stream), encoding=self.options.encoding)
        records: list[Any] = []
        line_no = 0
        try:
            for line_no, line in enumerate(text, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InvalidInput(
                        f"{file}: line {line_no} is not valid JSON ({exc.msg}); every line of a "
                        "JSON-lines file must hold one JSON object"
                    ) from None
                if len(records) >= JSONL_CHUNK_LINES:
                    yield from self._records_batches(records, ctx, file)
                    records = []
        except UnicodeDecodeError as exc:
            raise self._read_error(file, exc) from None
        if records:
            yield from self._records_batches(records, ctx, file)

    @staticmethod
    def _records_batches(
        records: list[Any], ctx: ReadContext, file: Path
    ) -> Iterator[pa.RecordBatch]:
        yield from records_to_table(records, ctx.types, ctx.warnings, file.name).to_batches()


def _open_binary(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise InvalidInput(f"cannot read {path}: permission denied") from None
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
