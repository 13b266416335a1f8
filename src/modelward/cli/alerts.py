"""``modelward alerts``: list, acknowledge and resolve monitoring alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from modelward.cli._context import emit, get_context, json_option
from modelward.cli._format import fmt_time

if TYPE_CHECKING:
    from rich.console import Console

    from modelward.entities.monitoring import Alert

__all__ = ["alerts"]


@click.group()
def alerts() -> None:
    """List, acknowledge and resolve monitoring alerts."""


@alerts.command("list")
@click.option("--monitor", "-m", default=None, help="Only this monitor's alerts.")
@click.option(
    "--status",
    "-s",
    multiple=True,
    type=click.Choice(["firing", "acknowledged", "resolved"]),
    help="Only these statuses (repeatable; default all).",
)
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1))
@click.option("--notifications", is_flag=True, help="Include delivery records.")
@json_option
def list_(
    monitor: str | None,
    status: tuple[str, ...],
    limit: int,
    notifications: bool,
    as_json: bool,
) -> None:
    """List alerts, newest first."""
    service = get_context().client.monitoring
    items = service.alerts(monitor=monitor, status=list(status) or None, limit=limit)
    data = []
    for a in items:
        entry = a.to_dict()
        if notifications:
            entry["notifications"] = [n.to_dict() for n in service.notifications(alert_id=a.id)]
        data.append(entry)

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("id", "severity", "status", "monitor", "rule", "value", "since", "count")
        for a in items:
            table.add_row(
                str(a.id),
                a.severity.value,
                a.status.value,
                a.monitor,
                a.rule,
                "-" if a.value is None else f"{a.value:.4g}",
                fmt_time(a.first_seen),
                str(a.count),
            )
        console.print(table if items else "no alerts")
        if notifications:
            for entry in data:
                for n in entry["notifications"]:
                    error = f" ({n['last_error']})" if n["last_error"] else ""
                    console.print(
                        f"alert {entry['id']} {n['event']} via {n['notifier']}: {n['status']} "
                        f"after {n['attempts']} attempt(s){error}"
                    )

    emit(data, as_json, render)


def _one(alert: Alert, verb: str, as_json: bool) -> None:
    emit(
        alert.to_dict(),
        as_json,
        lambda c: c.print(f"alert {alert.id} {verb} ({alert.status.value}): {alert.message}"),
    )


@alerts.command("ack")
@click.argument("alert_id", type=int)
@json_option
def ack(alert_id: int, as_json: bool) -> None:
    """Acknowledge an alert (no more notifications; it still resolves by itself)."""
    _one(get_context().client.monitoring.acknowledge(alert_id), "acknowledged", as_json)


@alerts.command("resolve")
@click.argument("alert_id", type=int)
@json_option
def resolve(alert_id: int, as_json: bool) -> None:
    """Resolve an alert by hand (it fires again if its condition still holds)."""
    _one(get_context().client.monitoring.resolve(alert_id), "resolved", as_json)
