"""``modelward data``: ingest, list, show, diff, query, export, prepare, split and validate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelward.cli._context import emit, get_context, json_option
from modelward.cli._data_render import (
    print_report,
    render_diff,
    render_ingest,
    render_show,
    render_table,
)
from modelward.cli._format import fmt_time

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["data"]


@click.group()
def data() -> None:
    """Ingest, version, validate, prepare, split, query and compare datasets."""


def _pairs(values: tuple[str, ...], sep: str, what: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, found, value = item.partition(sep)
        if not found or not key.strip():
            raise click.BadParameter(f"{item!r} is not {what} (KEY{sep}VALUE)")
        out[key.strip()] = value.strip()
    return out


class _Progress:
    """A rich progress bar on stderr, drawn only for a person at a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: Any = None

    def start(self, description: str, total: int | None) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def __enter__(self) -> _Progress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


def _progress(as_json: bool) -> Any:
    import contextlib

    if as_json or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return _Progress()


def _report_failures(exc: Exception) -> None:
    """Print the expectation report of a failed ingest/validate to stderr before the error."""
    from modelward.errors import SchemaViolation

    if isinstance(exc, SchemaViolation) and "report" in exc.details:
        from rich.console import Console

        print_report(
            Console(stderr=True, width=200 if not sys.stderr.isatty() else None),
            exc.details["report"],
        )


@data.command("ingest")
@click.argument("source", required=False)
@click.option("--name", "-n", required=True, help="Dataset name (versions are NAME@1, NAME@2, …).")
@click.option("--sql", default=None, help="A SQL query to ingest (with --db) instead of SOURCE.")
@click.option("--db", default=None, help="SQLAlchemy URL the --sql query runs against.")
@click.option(
    "--expect",
    "expect",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML expectations; a failed error-level check stores nothing.",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="COLUMN=TYPE",
    help="Read a column as a type: integer, float, string, boolean, date, timestamp (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "json", "jsonl"]),
    default=None,
    help="File (or HTTP) format; default: from the name / Content-Type.",
)
@click.option("--delimiter", default=None, help="CSV field separator (default , or tab for .tsv).")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of files.")
@click.option("--no-header", is_flag=True, help="The CSV has no header line.")
@click.option(
    "--on-bad-lines",
    type=click.Choice(["error", "skip"]),
    default="error",
    show_default=True,
    help="CSV rows with the wrong number of fields.",
)
@click.option("--records-path", default=None, help="Dotted key path to the records in JSON.")
@click.option(
    "--http-header",
    "http_headers",
    multiple=True,
    metavar="NAME:VALUE",
    help="HTTP request header (repeatable; values are never recorded).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="HTTP query parameter, or bound SQL parameter (repeatable).",
)
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="HTTP timeout per request, seconds.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 20),
    default=3,
    show_default=True,
    help="HTTP retries after connection errors, timeouts and 5xx answers.",
)
@click.option(
    "--paginate",
    type=click.Choice(["page", "offset"]),
    default=None,
    help="Fetch further HTTP pages by page number or by row offset.",
)
@click.option("--page-param", default=None, help="Page/offset query parameter name.")
@click.option("--page-size", type=click.IntRange(1), default=None, help="Rows per page.")
@click.option("--size-param", default=None, help="Query parameter carrying the page size.")
@click.option(
    "--max-pages",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Stop after this many pages.",
)
@click.option("--description", "-d", default=None, help="Free text recorded on the version.")
@json_option
def ingest(
    source: str | None,
    name: str,
    sql: str | None,
    db: str | None,
    expect: str | None,
    types: tuple[str, ...],
    fmt: str | None,
    delimiter: str | None,
    encoding: str,
    no_header: bool,
    on_bad_lines: str,
    records_path: str | None,
    http_headers: tuple[str, ...],
    params: tuple[str, ...],
    timeout: float,
    retries: int,
    paginate: str | None,
    page_param: str | None,
    page_size: int | None,
    size_param: str | None,
    max_pages: int,
    description: str | None,
    as_json: bool,
) -> None:
    """Ingest SOURCE as a new version of a dataset (or find the identical one).

    SOURCE is a CSV/Parquet/JSON/JSON-lines file or folder, an http(s):// URL, or
    sklearn:NAME (wine, iris, breast_cancer, diabetes, digits, linnerud); or use --sql with
    --db. Ingesting unchanged content again returns the existing version.
    """
    options: dict[str, Any] = {}
    is_http = bool(source and source.lower().startswith(("http://", "https://")))
    if sql is not None or db is not None:
        if params:
            options["params"] = _pairs(params, "=", "a parameter")
    elif is_http:
        options.update(
            headers=_pairs(http_headers, ":", "a header"),
            params=_pairs(params, "=", "a parameter"),
            timeout=timeout,
            retries=retries,
            format=fmt if fmt in ("json", "csv") else None,
            records_path=records_path,
        )
        if paginate:
            options["pagination"] = {
                "style": paginate,
                "param": page_param,
                "size": page_size,
                "size_param": size_param,
                "max_pages": max_pages,
            }
    elif source is not None and not source.startswith("sklearn:"):
        options.update(
            format=fmt,
            delimiter=delimiter,
            encoding=encoding,
            header=not no_header,
            on_bad_lines=on_bad_lines,
            records_path=records_path,
        )
    service = get_context().client.datasets
    try:
        with _progress(as_json) as bar:
            result = service.ingest(
                source,
                name=name,
                sql=sql,
                db=db,
                expect=expect,
                types=_pairs(types, "=", "a column type"),
                description=description,
                progress=bar,
                **options,
            )
    except Exception as exc:
        _report_failures(exc)
        raise
    emit(result.to_dict(), as_json, lambda c: render_ingest(c, result))


@data.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List datasets with their newest version."""
    items = get_context().client.datasets.list()

    def render(console: Console) -> None:
        from rich.table import Table

        if not items:
            console.print("no datasets yet; add one with: modelward data ingest SOURCE --name NAME")
            return
        table = Table("name", "versions", "latest", "rows", "updated")
        for s in items:
            table.add_row(
                s.name,
                str(s.versions),
                f"{s.name}@{s.latest}",
                f"{s.rows:,}",
                fmt_time(s.updated_at),
            )
        console.print(table)

    emit([s.to_dict() for s in items], as_json, render)


@data.command("show")
@click.argument("ref")
@click.option("--profile/--no-profile", default=True, help="Show per-column statistics.")
@json_option
def show(ref: str, profile: bool, as_json: bool) -> None:
    """Show a version (NAME@N; NAME for the newest): schema, profile, splits and lineage."""
    service = get_context().client.datasets
    version = service.get(ref)
    info = {
        **version.to_dict(profile=profile),
        "versions": [v.ref for v in service.versions(version.name)],
        "splits": [s.to_dict() for s in service.splits(version)],
        "lineage": service.lineage(version).to_dict(),
        "used_by": [{"run_id": r, "role": role} for r, role in service.consumers(version)],
    }
    emit(info, as_json, lambda c: render_show(c, version, info, profile))


@data.command("diff")
@click.argument("a")
@click.argument("b")
@json_option
def diff(a: str, b: str, as_json: bool) -> None:
    """Compare two versions: schema changes, row counts, statistics and drift (A -> B)."""
    result = get_context().client.datasets.diff(a, b)
    emit(result.to_dict(), as_json, lambda c: render_diff(c, result))


@data.command("query")
@click.argument("sql")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Rows printed (ignored with --output, which writes every row).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the whole result to a .parquet, .csv or .jsonl file.",
)
@json_option
def query(sql: str, limit: int, output: str | None, as_json: bool) -> None:
    """Run SQL over versions with DuckDB, e.g. "SELECT target, count(*) FROM wine@2 GROUP BY 1".

    Reference versions as NAME@N or NAME@latest; nothing else on the machine can be read.
    """
    plan = get_context().client.datasets.query_plan(sql)
    if output is not None:
        from modelward.datasets.export import write_batches

        rows = write_batches(plan.batches(), Path(output))
        emit(
            {"output": str(output), "rows": rows},
            as_json,
            lambda c: c.print(f"wrote {rows:,} rows to {output}"),
        )
        return
    table = plan.table(limit)
    records = table.to_pylist()
    emit(records, as_json, lambda c: render_table(c, table, limit))


@data.command("export")
@click.argument("ref")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False),
    help="Target file: .parquet, .csv, .jsonl or .json.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv", "jsonl", "json"]),
    default=None,
    help="Format, when the file name does not say.",
)
@json_option
def export(ref: str, output: str, fmt: str | None, as_json: bool) -> None:
    """Write a version's rows to a file."""
    service = get_context().client.datasets
    version = service.get(ref)
    path = service.export(version, output, format=fmt)
    emit(
        {"ref": version.ref, "output": str(path), "rows": version.rows},
        as_json,
        lambda c: c.print(f"wrote {version.ref} ({version.rows:,} rows) to {path}"),
    )


@data.command("prepare")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option(
    "--name", "-n", default=None, help="Dataset name of the result (default: the recipe's name)."
)
@click.option("--description", "-d", default=None, help="Free text recorded on the version.")
@json_option
def prepare(recipe: str, name: str | None, description: str | None, as_json: bool) -> None:
    """Apply a YAML recipe to its input versions and store the result as a new version."""
    result = get_context().client.datasets.prepare(recipe, name=name, description=description)
    emit(result.to_dict(), as_json, lambda c: render_ingest(c, result))


@data.command("split")
@click.argument("ref")
@click.option("--train", type=float, default=None, help="Training fraction.")
@click.option("--validation", type=float, default=None, help="Validation fraction.")
@click.option("--test", type=float, default=None, help="Test fraction.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Random seed.")
@click.option("--stratify", default=None, help="Keep this column's class proportions per part.")
@click.option("--name", default=None, help="Split name (default seed<SEED>[-by-<COLUMN>]).")
@json_option
def split(
    ref: str,
    train: float | None,
    validation: float | None,
    test: float | None,
    seed: int,
    stratify: str | None,
    name: str | None,
    as_json: bool,
) -> None:
    """Split a version's rows into train/validation/test, deterministically, and record it.

    Fractions left out take the rest (none given: 0.7/0.15/0.15).
    """
    service = get_context().client.datasets
    version = service.get(ref)
    parts = service.split(
        version,
        train=train,
        validation=validation,
        test=test,
        seed=seed,
        stratify=stratify,
        name=name,
    )
    info = {"ref": version.ref, **parts.to_dict()}

    def render(console: Console) -> None:
        sizes = info["sizes"]
        console.print(
            f"split [bold]{parts.split.name}[/] of {version.ref}: "
            + ", ".join(f"{p} {n:,}" for p, n in sizes.items())
        )

    emit(info, as_json, render)


@data.command("validate")
@click.argument("ref")
@click.option(
    "--expect", "expect", required=True, type=click.Path(dir_okay=False), help="YAML expectations."
)
@json_option
def validate(ref: str, expect: str, as_json: bool) -> None:
    """Check a stored version against expectations; exit 1 when an error-level check fails."""
    service = get_context().client.datasets
    version = service.get(ref)
    report = service.validate(version, expect)
    emit(
        {"ref": version.ref, **report.to_dict()},
        as_json,
        lambda c: print_report(c, report.to_dict()),
    )
    if not report.passed:
        from modelward.errors import SchemaViolation

        raise SchemaViolation(f"{version.ref} fails its expectations: {report.summary()}")
