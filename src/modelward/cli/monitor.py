"""``modelward monitor``: create, list, show, run, watch, report and delete monitors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from modelward.cli._context import emit, get_context, json_option
from modelward.cli._format import fmt_time

if TYPE_CHECKING:
    from rich.console import Console

    from modelward.monitoring.runner import RunResult
    from modelward.monitoring.service import MonitoringService

__all__ = ["monitor"]

_RULE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$")


def _service() -> MonitoringService:
    import os

    service = get_context().client.monitoring
    # Notifiers may name environment variables holding secrets (url_env, password_env);
    # only an entry point reads the environment.
    service.use_secrets(os.environ)
    return service


@click.group()
def monitor() -> None:
    """Create, list, show, run, watch, report and delete monitors."""


def _window(text: str) -> dict[str, Any]:
    kind, sep, arg = text.partition(":")
    if sep and kind == "rows":
        if not arg.isdigit():
            raise click.BadParameter(f"expected rows:N, got {text!r}", param_hint="--window")
        return {"type": "rows", "size": int(arg)}
    if sep and kind == "dataset":
        return {"type": "dataset", "dataset": arg}
    return {"type": "time", "size": text}


def _rule(text: str) -> dict[str, Any]:
    match = _RULE.match(text)
    if match is None:
        raise click.BadParameter(
            f"expected METRIC OP VALUE such as 'drift.share>=0.3', got {text!r}",
            param_hint="--alert",
        )
    metric, op, value = match.groups()
    return {"name": metric, "metric": metric, "condition": f"{op} {value}"}


@monitor.command("create")
@click.option("--file", "-f", "file", type=click.Path(dir_okay=False), help="Definition (YAML).")
@click.option("--name", default=None, help="Monitor name (overrides the file's).")
@click.option("--deployment", "-d", default=None, help="Deployment whose log is watched.")
@click.option("--reference", default=None, help="Reference dataset version (default: training).")
@click.option("--task", type=click.Choice(["classification", "regression"]), default=None)
@click.option("--window", "-w", default=None, help="1h (time), rows:1000 or dataset:NAME@N.")
@click.option("--schedule", default=None, help="How often `monitor watch` runs it (e.g. 15m).")
@click.option("--alert", "alerts", multiple=True, help="Rule METRIC OP VALUE (repeatable).")
@click.option("--webhook", default=None, help="Notify alerts to this URL (Slack-compatible).")
@click.option("--replace", is_flag=True, help="Replace an existing monitor of that name.")
@json_option
def create(
    file: str | None,
    name: str | None,
    deployment: str | None,
    reference: str | None,
    task: str | None,
    window: str | None,
    schedule: str | None,
    alerts: tuple[str, ...],
    webhook: str | None,
    replace: bool,
    as_json: bool,
) -> None:
    """Create a monitor from -f FILE and/or flags (flags override the file)."""
    definition: dict[str, Any] = {}
    if file is not None:
        from modelward.datasets.yamlio import load_yaml

        loaded = load_yaml(file, "monitor definition")
        if not isinstance(loaded, dict):
            raise click.BadParameter("the file must hold a mapping", param_hint="--file")
        definition.update(loaded)
    flags = {
        "name": name,
        "deployment": deployment,
        "reference": reference,
        "task": task,
        "schedule": schedule,
    }
    definition.update({k: v for k, v in flags.items() if v is not None})
    if window is not None:
        definition["window"] = _window(window)
    if alerts:
        definition["alert_rules"] = [*definition.get("alert_rules", []), *map(_rule, alerts)]
    if webhook is not None:
        definition["notifiers"] = [
            *definition.get("notifiers", []),
            {"name": "webhook", "type": "webhook", "url": webhook},
        ]
    if "name" not in definition:
        raise click.UsageError("give the monitor a name: --name NAME or name: in the file")
    m = _service().create(definition, replace=replace)
    emit(m.to_dict(), as_json, lambda c: c.print(f"created monitor {m.name}"))


@monitor.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List monitors."""
    from modelward.monitoring.spec import WindowSpec, format_duration

    items = _service().list()

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("name", "deployment", "reference", "window", "schedule", "rules", "last run")
        for m in items:
            table.add_row(
                m.name,
                m.deployment or "-",
                m.reference or "(training data)",
                WindowSpec.from_dict(m.window).describe(),
                format_duration(m.schedule),
                str(len(m.alert_rules)),
                fmt_time(m.last_run_at),
            )
        console.print(table if items else "no monitors yet")

    emit([m.to_dict() for m in items], as_json, render)


@monitor.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show a monitor: definition, latest values and open alerts."""
    from modelward.entities.monitoring import AlertStatus

    service = _service()
    m = service.get(name)
    latest = service.results(name, keys=["window.rows"], limit=1)
    values = []
    if latest:
        values = [
            r
            for r in service.results(name, start=latest[0].window_start, limit=2000)
            if r.window_start == latest[0].window_start and not r.key.startswith("drift.column.")
        ]
    open_alerts = service.alerts(
        monitor=name, status=[AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED]
    )
    data = {
        "monitor": m.to_dict(),
        "latest": [r.to_dict() for r in values],
        "open_alerts": [a.to_dict() for a in open_alerts],
    }

    def render(console: Console) -> None:
        from modelward.monitoring.spec import MonitorSpec, format_duration

        spec = MonitorSpec.from_monitor(m)
        console.print(f"[bold]{m.name}[/bold]  {m.description}")
        console.print(f"  deployment  {m.deployment or '-'}")
        console.print(f"  reference   {m.reference or '(the model training data)'}")
        console.print(
            f"  window      {spec.window.describe()}, every {format_duration(m.schedule)}"
        )
        console.print(f"  rules       {', '.join(r.name for r in spec.rules) or '-'}")
        console.print(f"  last run    {fmt_time(m.last_run_at)}")
        if values:
            console.print(f"  latest window ({fmt_time(values[0].window_start)}):")
            for r in values:
                shown = "-" if r.value is None else f"{r.value:.4g}"
                console.print(f"    {r.key:<32} {shown}")
        for a in open_alerts:
            console.print(
                f"  [red]alert {a.id}[/red] {a.severity.value} {a.status.value}: {a.message}"
            )

    emit(data, as_json, render)


def _print_run(console: Console, result: RunResult) -> None:
    if result.message and not result.windows:
        console.print(f"{result.monitor}: {result.message}")
    for w in result.windows:
        drift = w["drift"] or {}
        quality = w["quality"] or {}
        perf = (w["performance"] or {}).get("metrics") or {}
        parts = [f"{w['rows']} rows"]
        if drift:
            cols = ", ".join(drift["drifted_columns"]) or "none"
            parts.append(f"drift {drift['verdict']} ({cols})")
        if quality:
            parts.append("quality " + ("passed" if quality["passed"] else "failed"))
        if perf:
            parts.append(", ".join(f"{k} {v:.4g}" for k, v in perf.items()))
        parts.extend(f"{k} skipped: {v}" for k, v in w["notes"].items())
        console.print(f"{result.monitor} {w['window']['label']}: " + "; ".join(parts))
    for late in result.late_windows:
        console.print(f"{result.monitor} late labels updated {late['window']['label']}")
    for a in result.anomalies:
        console.print(
            f"{result.monitor} anomaly in {a['key']}: {a['value']:.4g} (score {a['score']:.2f})"
        )
    for e in result.alerts:
        if e.action != "updated":
            console.print(f"{result.monitor} alert {e.alert.id} {e.action}: {e.alert.message}")


@monitor.command("run")
@click.argument("name")
@json_option
def run(name: str, as_json: bool) -> None:
    """Run a monitor now: evaluate its due windows, apply late labels, alert."""
    service = _service()
    result = service.run(name)
    service.flush(30.0)
    emit(result.to_dict(), as_json, lambda c: _print_run(c, result))


@monitor.command("watch")
@click.option(
    "--poll", default=1.0, show_default=True, type=click.FloatRange(0.01), help="Seconds."
)
@click.option("--max-cycles", default=None, type=click.IntRange(1), help="Stop after N cycles.")
@json_option
def watch(poll: float, max_cycles: int | None, as_json: bool) -> None:
    """Run every monitor on its schedule until Ctrl-C or SIGTERM."""
    import json
    import signal
    import threading

    from rich.console import Console

    service = _service()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    console = Console(soft_wrap=False)

    def on_result(result: RunResult) -> None:
        if as_json:
            click.echo(json.dumps(result.to_dict(), default=str))
        else:
            _print_run(console, result)

    try:
        cycles = service.watch(stop, poll=poll, max_cycles=max_cycles, on_result=on_result)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not as_json:
        console.print(f"stopped after {cycles} cycle(s)")


@monitor.command("report")
@click.argument("name")
@click.option("--window", "-w", default=None, help="last:1h, START/END, rows:N or dataset:NAME@N.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="report.html or report.json.",
)
@json_option
def report(name: str, window: str | None, output: str | None, as_json: bool) -> None:
    """Write the report of a window as self-contained HTML (or JSON)."""
    service = _service()
    if output is None:
        if not as_json:
            raise click.UsageError("give --output report.html (or --json to print the JSON)")
        emit(service.report(name, window=window), True)
        return
    path = service.write_report(name, output, window=window)
    emit({"output": str(path)}, as_json, lambda c: c.print(f"wrote {path}"))


@monitor.command("delete")
@click.argument("name")
@json_option
def delete(name: str, as_json: bool) -> None:
    """Delete a monitor with its results and alerts."""
    _service().delete(name)
    emit({"deleted": name}, as_json, lambda c: c.print(f"deleted monitor {name}"))
