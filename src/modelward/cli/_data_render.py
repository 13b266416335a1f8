"""Rich rendering of datasets for people: ingest results, versions, diffs, reports, tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelward.cli._format import fmt_number, fmt_time

if TYPE_CHECKING:
    import pyarrow as pa
    from rich.console import Console

    from modelward.datasets.analysis import DatasetDiff
    from modelward.datasets.ingest import IngestResult
    from modelward.entities import DatasetVersion

__all__ = ["print_report", "render_diff", "render_ingest", "render_show", "render_table"]


def fmt_bytes(size: int | None) -> str:
    """``1.5 MB`` style sizes."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return fmt_number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render_ingest(console: Console, result: IngestResult) -> None:
    """One line about the version, then warnings."""
    v = result.version
    if result.created:
        head = f"[green]created[/] [bold]{v.ref}[/]"
    elif result.reused_by == "fingerprint":
        head = f"[cyan]unchanged source[/]: [bold]{v.ref}[/] already holds it"
    else:
        head = f"[cyan]same content[/] as [bold]{v.ref}[/]; no new version"
    console.print(
        f"{head}: {v.rows:,} rows x {len(v.schema)} columns, {fmt_bytes(v.size)} Parquet, "
        f"digest {v.digest[:12]} ({result.seconds:.2f} s)"
    )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


def print_report(console: Console, report: Mapping[str, Any]) -> None:
    """An expectation report as a table."""
    from rich.table import Table

    table = Table(
        "check", "column", "expected", "observed", title="expectations", title_justify="left"
    )
    styles = {"error": "red", "warn": "yellow"}
    for r in report.get("results", []):
        if r["passed"]:
            mark = "[green]ok[/]"
        else:
            mark = f"[{styles[r['severity']]}]{'FAIL' if r['severity'] == 'error' else 'WARN'}[/]"
        table.add_row(
            f"{mark} {r['check']}", r["column"] or "(table)", r["expected"], r["observed"]
        )
    console.print(table)


def _profile_rows(profile: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in profile.get("columns", [])}


def render_show(
    console: Console, version: DatasetVersion, info: Mapping[str, Any], profile: bool
) -> None:
    """Header, schema with statistics, splits, lineage tree and consuming runs."""
    from rich.table import Table
    from rich.tree import Tree

    head = Table.grid(padding=(0, 2))
    source = dict(version.source)
    where = (
        source.get("path")
        or source.get("url")
        or source.get("dataset")
        or source.get("db")
        or ", ".join(source.get("inputs", []))
    )
    rows = [
        ("version", version.ref),
        ("versions", ", ".join(info["versions"])),
        ("digest", version.digest),
        ("rows", f"{version.rows:,}"),
        ("size", f"{fmt_bytes(version.size)} Parquet"),
        ("created", fmt_time(version.created_at)),
        ("source", f"{source.get('kind')}: {where}" if where else str(source.get("kind"))),
        ("parents", ", ".join(version.parents) or "-"),
    ]
    if version.description:
        rows.append(("description", version.description))
    for label, value in rows:
        head.add_row(f"[bold]{label}", str(value))
    console.print(head)
    stats = _profile_rows(version.profile) if profile else {}
    table = Table(
        "column",
        "type",
        "nulls",
        "min",
        "mean",
        "max",
        "std / top values",
        title="schema and profile" if profile else "schema",
        title_justify="left",
    )
    for col in version.schema:
        p = stats.get(col.name, {})
        total = p.get("count", 0) + p.get("nulls", 0)
        nulls = f"{p['nulls'] / total:.1%}" if p and total else ("yes" if col.nullable else "-")
        numeric = p.get("numeric") or {}
        categorical = p.get("categorical") or {}
        if categorical:
            top = ", ".join(f"{v} ({c:,})" for v, c in categorical.get("top", [])[:3])
            last = f"{categorical.get('cardinality', 0):,} distinct: {top}"
        else:
            last = _value(numeric.get("std"))
        table.add_row(
            col.name,
            col.type,
            nulls,
            _value(numeric.get("min")),
            _value(numeric.get("mean")),
            _value(numeric.get("max")),
            last,
        )
    console.print(table)
    if info.get("splits"):
        splits = Table(
            "split",
            "seed",
            "stratify",
            "train",
            "validation",
            "test",
            title="splits",
            title_justify="left",
        )
        for s in info["splits"]:
            counts = s["counts"]
            splits.add_row(
                s["name"],
                str(s["seed"]),
                s["stratify"] or "-",
                *(f"{counts.get(p, 0):,}" for p in ("train", "validation", "test")),
            )
        console.print(splits)
    lineage = info.get("lineage") or {}
    if lineage.get("parents"):
        tree = Tree(f"[bold]lineage of {version.ref}")

        def add(node: Any, data: Mapping[str, Any]) -> None:
            for parent in data.get("parents", []):
                branch = node.add(parent["ref"])
                add(branch, parent)

        add(tree, lineage)
        console.print(tree)
    if info.get("used_by"):
        console.print(
            "used by runs: "
            + ", ".join(f"{u['run_id'][:12]} ({u['role']})" for u in info["used_by"])
        )


def render_diff(console: Console, diff: DatasetDiff) -> None:
    """Row counts, then one line per changed column."""
    from rich.table import Table

    a, b = diff.a, diff.b
    if diff.same_content:
        console.print(f"{a.ref} and {b.ref} hold the same content (digest {a.digest[:12]})")
        return
    console.print(f"{a.ref} -> {b.ref}: rows {a.rows:,} -> {b.rows:,} ({b.rows - a.rows:+,})")
    table = Table("column", "change", "type", "statistics", "drift")
    for c in diff.columns:
        if (
            c.status == "common"
            and not c.stats
            and not c.categories_added
            and not (c.drift and c.drift.get("drifted"))
        ):
            continue
        style = {"added": "green", "removed": "red", "changed": "yellow"}.get(c.status, "")
        types = c.type_a if c.type_a == c.type_b else f"{c.type_a or '-'} -> {c.type_b or '-'}"
        stats = "; ".join(
            f"{k} {_value(v[0])} -> {_value(v[1])}"
            for k, v in c.stats.items()
            if k in ("null_rate", "mean", "std", "min", "max", "cardinality")
        )
        if c.categories_added:
            stats += f"; new values {', '.join(c.categories_added[:5])}"
        if c.categories_removed:
            stats += f"; gone values {', '.join(c.categories_removed[:5])}"
        drift = "-"
        if c.drift and c.drift.get("method"):
            mark = "[red]drifted[/]" if c.drift.get("drifted") else "no"
            drift = f"{mark} ({c.drift['method']} {_value(c.drift.get('statistic'))})"
        table.add_row(
            c.name,
            f"[{style}]{c.status}[/]" if style else c.status,
            types,
            stats.strip("; ") or "-",
            drift,
        )
    if table.row_count:
        console.print(table)
    else:
        console.print("no schema or statistics changes")
    if diff.drifted:
        console.print(f"drifted columns: {', '.join(diff.drifted)}")


def render_table(console: Console, table: pa.Table, limit: int) -> None:
    """A query result as a table (at most ``limit`` rows)."""
    from rich.table import Table

    out = Table(*table.column_names)
    for row in table.slice(0, limit).to_pylist():
        out.add_row(*(_value(v) for v in row.values()))
    console.print(out)
    console.print(
        f"{table.num_rows:,} row(s)" + (" (limit reached)" if table.num_rows >= limit else "")
    )
