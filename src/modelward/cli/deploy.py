"""``modelward deploy``: create, list, show, update, roll back and delete deployments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from modelward.cli._context import emit, get_context, json_option
from modelward.cli._format import fmt_time

if TYPE_CHECKING:
    from rich.console import Console

    from modelward.entities.deployments import Deployment, ModelTarget

__all__ = ["deploy"]

_UNSET: Any = object()


@click.group()
def deploy() -> None:
    """Create, list, show, update, roll back and delete deployments."""


def _canary(value: str) -> tuple[ModelTarget, float]:
    from modelward.entities.deployments import ModelTarget

    ref, sep, percent = value.rpartition(":")
    if not sep:
        return ModelTarget.parse(value), 10.0
    try:
        share = float(percent)
    except ValueError:
        raise click.BadParameter(
            f"expected MODEL@ALIAS:PERCENT (e.g. iris@challenger:10), got {value!r}",
            param_hint="--canary",
        ) from None
    return ModelTarget.parse(ref), share


def _batching(max_batch_size: int | None, max_wait_ms: float | None, base: Any = None) -> Any:
    from modelward.entities.deployments import Batching

    if max_batch_size is None and max_wait_ms is None:
        return base
    base = base or Batching()
    return Batching(
        max_batch_size if max_batch_size is not None else base.max_batch_size,
        max_wait_ms if max_wait_ms is not None else base.max_wait_ms,
    )


def _limits(
    max_body_bytes: int | None, max_rows: int | None, allow_nan: bool | None, base: Any = None
) -> Any:
    from modelward.entities.deployments import Limits

    if max_body_bytes is None and max_rows is None and allow_nan is None:
        return base
    base = base or Limits()
    return Limits(
        max_body_bytes if max_body_bytes is not None else base.max_body_bytes,
        max_rows if max_rows is not None else base.max_rows,
        allow_nan if allow_nan is not None else base.allow_nan,
    )


def _limit_options(f: Any) -> Any:
    f = click.option("--max-batch-size", type=click.IntRange(1), help="Most rows per model call.")(
        f
    )
    f = click.option(
        "--max-wait-ms",
        type=click.FloatRange(0, 10_000),
        help="Longest wait for arriving requests.",
    )(f)
    f = click.option("--max-body-bytes", type=click.IntRange(1024), help="Largest request body.")(f)
    f = click.option("--max-rows", type=click.IntRange(1), help="Most rows per request.")(f)
    f = click.option(
        "--allow-nan/--refuse-nan", default=None, help="Accept null/NaN/inf in float inputs."
    )(f)
    return f


@deploy.command("create")
@click.argument("name")
@click.option("--model", "-m", required=True, help="MODEL@ALIAS (followed) or MODEL/VERSION.")
@click.option("--canary", default=None, help="MODEL@ALIAS:PERCENT receiving a share of traffic.")
@click.option("--sticky-header", default=None, help="Header pinning a caller to one side.")
@click.option("--shadow", default=None, help="MODEL@ALIAS receiving a mirrored copy.")
@_limit_options
@click.option("--description", default="", help="Free text.")
@json_option
def create(
    name: str,
    model: str,
    canary: str | None,
    sticky_header: str | None,
    shadow: str | None,
    max_batch_size: int | None,
    max_wait_ms: float | None,
    max_body_bytes: int | None,
    max_rows: int | None,
    allow_nan: bool | None,
    description: str,
    as_json: bool,
) -> None:
    """Create deployment NAME serving --model (e.g. iris@champion)."""
    canary_target, percent = _canary(canary) if canary else (None, 10.0)
    d = get_context().client.deployments.create(
        name,
        model,
        canary=canary_target,
        canary_percent=percent,
        sticky_header=sticky_header,
        shadow=shadow,
        batching=_batching(max_batch_size, max_wait_ms),
        limits=_limits(max_body_bytes, max_rows, allow_nan),
        description=description,
    )
    emit(d.to_dict(), as_json, lambda c: c.print(f"created deployment {d.name}: {_summary(d)}"))


@deploy.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List deployments."""
    items = get_context().client.deployments.list()

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("name", "model", "version", "canary", "shadow", "status", "updated")
        for d in items:
            canary = "-" if d.canary is None else f"{d.canary} ({d.canary_percent:g}%)"
            table.add_row(
                d.name,
                str(d.target),
                str(d.current_version),
                canary,
                "-" if d.shadow is None else str(d.shadow),
                d.status.value,
                fmt_time(d.updated_at),
            )
        console.print(table if items else "no deployments yet")

    emit([d.to_dict() for d in items], as_json, render)


@deploy.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show one deployment."""
    d = get_context().client.deployments.get(name)

    def render(console: Console) -> None:
        console.print(f"[bold]{d.name}[/bold]  revision {d.revision}  {d.status.value}")
        console.print(f"  serves      {_summary(d)}")
        console.print(f"  previous    {', '.join(map(str, d.previous_versions)) or '-'}")
        console.print(
            f"  batching    {d.batching.max_batch_size} rows / {d.batching.max_wait_ms:g} ms"
        )
        console.print(
            f"  limits      {d.limits.max_body_bytes:,} bytes, {d.limits.max_rows:,} rows, "
            f"NaN {'allowed' if d.limits.allow_nan else 'refused'}"
        )
        console.print(f"  updated     {fmt_time(d.updated_at)}")

    emit(d.to_dict(), as_json, render)


@deploy.command("update")
@click.argument("name")
@click.option("--model", "-m", default=None, help="New champion: MODEL@ALIAS or MODEL/VERSION.")
@click.option("--canary", default=None, help="MODEL@ALIAS:PERCENT.")
@click.option("--no-canary", is_flag=True, help="Remove the canary.")
@click.option("--canary-percent", type=click.FloatRange(0, 100), default=None, help="New share.")
@click.option("--sticky-header", default=None, help="Header pinning a caller to one side.")
@click.option("--shadow", default=None, help="MODEL@ALIAS receiving a mirrored copy.")
@click.option("--no-shadow", is_flag=True, help="Remove the shadow.")
@click.option("--pause", "status", flag_value="paused", default=None, help="Answer 503.")
@click.option("--resume", "status", flag_value="active", help="Serve again.")
@_limit_options
@click.option("--description", default=None, help="Free text.")
@json_option
def update(
    name: str,
    model: str | None,
    canary: str | None,
    no_canary: bool,
    canary_percent: float | None,
    sticky_header: str | None,
    shadow: str | None,
    no_shadow: bool,
    status: str | None,
    max_batch_size: int | None,
    max_wait_ms: float | None,
    max_body_bytes: int | None,
    max_rows: int | None,
    allow_nan: bool | None,
    description: str | None,
    as_json: bool,
) -> None:
    """Change a deployment; running servers pick the change up within seconds."""
    service = get_context().client.deployments
    current = service.get(name)
    kwargs: dict[str, Any] = {}
    if canary:
        kwargs["canary"], percent = _canary(canary)
        kwargs["canary_percent"] = canary_percent if canary_percent is not None else percent
    elif no_canary:
        kwargs["canary"] = None
    elif canary_percent is not None:
        kwargs["canary_percent"] = canary_percent
    if shadow:
        kwargs["shadow"] = shadow
    elif no_shadow:
        kwargs["shadow"] = None
    if sticky_header is not None:
        kwargs["sticky_header"] = sticky_header or None
    d = service.update(
        name,
        model=model,
        batching=_batching(max_batch_size, max_wait_ms, current.batching),
        limits=_limits(max_body_bytes, max_rows, allow_nan, current.limits),
        status=status,
        description=description,
        **kwargs,
    )
    emit(
        d.to_dict(),
        as_json,
        lambda c: c.print(f"updated {d.name} (revision {d.revision}): {_summary(d)}"),
    )


@deploy.command("rollback")
@click.argument("name")
@json_option
def rollback(name: str, as_json: bool) -> None:
    """Serve the version served before the current one (pinned)."""
    d = get_context().client.deployments.rollback(name)
    emit(d.to_dict(), as_json, lambda c: c.print(f"rolled {d.name} back: {_summary(d)}"))


@deploy.command("history")
@click.argument("name")
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1))
@json_option
def history(name: str, limit: int, as_json: bool) -> None:
    """Show a deployment's changes, oldest first."""
    entries = get_context().client.deployments.history(name, limit=limit)
    data = [
        {
            "id": e.id,
            "revision": e.revision,
            "action": e.action,
            "actor": e.actor,
            "time": e.time,
            "before": e.before,
            "after": e.after,
        }
        for e in entries
    ]

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("time", "revision", "action", "actor", "serves")
        for e in entries:
            after = e.after or {}
            target = after.get("target") or {}
            serves = "-" if not target else f"{target.get('model')} v{after.get('current_version')}"
            table.add_row(fmt_time(e.time), str(e.revision), e.action, e.actor, serves)
        console.print(table)

    emit(data, as_json, render)


@deploy.command("delete")
@click.argument("name")
@json_option
def delete(name: str, as_json: bool) -> None:
    """Delete a deployment (history and feedback are kept)."""
    get_context().client.deployments.delete(name)
    emit({"deleted": name}, as_json, lambda c: c.print(f"deleted deployment {name}"))


def _summary(d: Deployment) -> str:
    text = f"{d.target} (v{d.current_version})"
    if d.canary is not None:
        text += f", canary {d.canary} at {d.canary_percent:g}%"
    if d.sticky_header:
        text += f" sticky by {d.sticky_header}"
    if d.shadow is not None:
        text += f", shadow {d.shadow}"
    return text
