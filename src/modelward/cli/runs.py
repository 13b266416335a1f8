"""``modelward runs``: list, search, show, compare, delete and restore runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from modelward.cli._context import emit, get_context, json_option
from modelward.cli._format import fmt_duration, fmt_number, fmt_time

if TYPE_CHECKING:
    from rich.console import Console

    from modelward.entities import Run

__all__ = ["runs"]

_STATUS_STYLE = {"RUNNING": "cyan", "FINISHED": "green", "FAILED": "red", "KILLED": "yellow"}


@click.group()
def runs() -> None:
    """List, search, show, compare and delete runs."""


@runs.command("list")
@click.option(
    "--experiment",
    "-e",
    "experiments",
    multiple=True,
    help="Experiment name or id (repeatable; default: all).",
)
@click.option(
    "--filter",
    "-f",
    "filter_",
    default="",
    help="e.g. \"metrics.acc > 0.9 and params.depth = '3'\".",
)
@click.option(
    "--order-by", "-o", "order_by", multiple=True, help="e.g. 'metrics.acc DESC' (repeatable)."
)
@click.option("--max-results", "-n", default=100, show_default=True, type=click.IntRange(1, 50_000))
@click.option("--page-token", default=None, help="next_token printed by the previous page.")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted runs.")
@json_option
def list_(
    experiments: tuple[str, ...],
    filter_: str,
    order_by: tuple[str, ...],
    max_results: int,
    page_token: str | None,
    include_deleted: bool,
    as_json: bool,
) -> None:
    """List runs matching a filter, in order, one page at a time (see docs/search.md)."""
    page = get_context().client.tracking.search_runs(
        list(experiments) or None,
        filter_,
        list(order_by),
        max_results,
        page_token,
        include_deleted=include_deleted,
    )
    data = {"runs": [r.to_dict() for r in page.items], "next_token": page.next_token}

    def render(console: Console) -> None:
        from rich.table import Table

        if not page.items:
            console.print("no runs match")
            return
        metric_keys = sorted(
            {k for r in page.items for k in r.metrics if not k.startswith("system/")}
        )[:6]
        table = Table("run id", "name", "status", "started", "duration", *metric_keys)
        for r in page.items:
            table.add_row(
                r.id,
                r.name,
                f"[{_STATUS_STYLE.get(r.status.value, '')}]{r.status.value}",
                fmt_time(r.start_time),
                fmt_duration(r.start_time, r.end_time),
                *[fmt_number(r.metrics[k]) if k in r.metrics else "" for k in metric_keys],
            )
        console.print(table)
        if page.next_token:
            console.print(f"more: --page-token {page.next_token}")

    emit(data, as_json, render)


@runs.command("show")
@click.argument("run_id")
@json_option
def show(run_id: str, as_json: bool) -> None:
    """Show one run: attributes, params, tags and latest metrics."""
    run = get_context().client.tracking.get_run(run_id)

    def render(console: Console) -> None:
        from rich.table import Table

        head = Table.grid(padding=(0, 2))
        for label, value in [
            ("run", run.id),
            ("name", run.name),
            ("experiment", run.experiment_id),
            ("status", run.status.value),
            ("started", fmt_time(run.start_time)),
            ("ended", fmt_time(run.end_time)),
            ("duration", fmt_duration(run.start_time, run.end_time)),
            ("parent", run.parent_id or "-"),
            ("user", run.user or "-"),
        ]:
            head.add_row(f"[bold]{label}", str(value))
        console.print(head)
        for title, mapping in (("params", run.params), ("tags", run.tags)):
            if mapping:
                table = Table("key", "value", title=title, title_justify="left")
                for k, text in sorted(mapping.items()):
                    table.add_row(k, text if len(text) <= 120 else text[:117] + "...")
                console.print(table)
        if run.metrics:
            table = Table("key", "latest", title="metrics", title_justify="left")
            for k, v in sorted(run.metrics.items()):
                table.add_row(k, fmt_number(v))
            console.print(table)

    emit(run.to_dict(), as_json, render)


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--diff-only", is_flag=True, help="Show only rows where runs differ.")
@json_option
def compare(run_ids: tuple[str, ...], diff_only: bool, as_json: bool) -> None:
    """Compare runs side by side: params and latest metrics."""
    tracking = get_context().client.tracking
    items = [tracking.get_run(r) for r in run_ids]
    rows = _comparison(items)
    if diff_only:
        rows = [r for r in rows if len({repr(v) for v in r["values"]}) > 1]
    data = {"runs": [r.id for r in items], "rows": rows}

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("", *[f"{r.name}\n{r.id[:8]}" for r in items])
        for row in rows:
            values = row["values"]
            differ = len({repr(v) for v in values}) > 1
            cells = [_cell(v) for v in values]
            style = "bold" if differ else "dim"
            table.add_row(f"[{style}]{row['kind']}.{row['key']}", *cells)
        console.print(table)

    emit(data, as_json, render)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return fmt_number(value) if isinstance(value, float) else str(value)


def _comparison(items: list[Run]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    sections: list[tuple[str, list[Mapping[str, Any]]]] = [
        ("params", [r.params for r in items]),
        ("metrics", [r.metrics for r in items]),
    ]
    for kind, mappings in sections:
        keys = sorted({k for m in mappings for k in m})
        rows.extend(
            {"kind": kind, "key": key, "values": [m.get(key) for m in mappings]} for key in keys
        )
    return rows


@runs.command("delete")
@click.argument("run_ids", nargs=-1, required=True)
@json_option
def delete(run_ids: tuple[str, ...], as_json: bool) -> None:
    """Soft-delete runs (and their nested runs); `runs restore` undoes it."""
    tracking = get_context().client.tracking
    for run_id in run_ids:
        tracking.get_run(run_id)
    for run_id in run_ids:
        tracking.delete_run(run_id)
    emit({"deleted": list(run_ids)}, as_json, lambda c: c.print(f"deleted {len(run_ids)} run(s)"))


@runs.command("restore")
@click.argument("run_ids", nargs=-1, required=True)
@json_option
def restore(run_ids: tuple[str, ...], as_json: bool) -> None:
    """Restore soft-deleted runs."""
    tracking = get_context().client.tracking
    for run_id in run_ids:
        tracking.restore_run(run_id)
    emit({"restored": list(run_ids)}, as_json, lambda c: c.print(f"restored {len(run_ids)} run(s)"))


@runs.command("history")
@click.argument("run_id")
@click.argument("key")
@json_option
def history(run_id: str, key: str, as_json: bool) -> None:
    """Print every point of one metric of a run, by step."""
    points = get_context().client.tracking.get_metric_history(run_id, key)
    data = [{"step": p.step, "timestamp": p.timestamp, "value": p.value} for p in points]

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("step", "time", key)
        for p in points:
            table.add_row(str(p.step), fmt_time(p.timestamp), fmt_number(p.value))
        console.print(table if points else f"run {run_id} has no metric {key!r}")

    emit(data, as_json, render)
