"""``modelward models``: the registry from the shell.

Models, versions, aliases, archive/delete, audit log, lineage and export.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from modelward.cli._context import emit, get_context, json_option
from modelward.cli._format import fmt_number, fmt_time

if TYPE_CHECKING:
    from rich.console import Console

    from modelward.entities.models import ModelVersion
    from modelward.registry.service import RegistryService

__all__ = ["models"]

_STATUS_STYLE = {"READY": "green", "ARCHIVED": "yellow", "DELETED": "red"}


def _registry() -> RegistryService:
    return get_context().client.registry


@click.group()
def models() -> None:
    """Registered models: versions, aliases, audit log, lineage and export."""


@models.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List registered models with their latest version and aliases."""
    items = _registry().list_models()

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("name", "latest", "aliases", "updated", "description")
        for m in items:
            aliases = ", ".join(f"{a}->v{v}" for a, v in sorted(m.aliases.items()))
            table.add_row(
                m.name, str(m.latest_version or "-"), aliases, fmt_time(m.updated_at), m.description
            )
        console.print(table if items else "no registered models yet")

    emit([m.to_dict() for m in items], as_json, render)


@models.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show a registered model: description, tags, aliases and versions."""
    registry = _registry()
    model = registry.get_model(name)
    versions = registry.versions(name)
    data = {**model.to_dict(), "versions": [v.to_dict() for v in versions]}

    def render(console: Console) -> None:
        from rich.table import Table

        head = Table.grid(padding=(0, 2))
        for label, value in [
            ("model", model.name),
            ("description", model.description or "-"),
            ("created", f"{fmt_time(model.created_at)} by {model.created_by or '-'}"),
            ("updated", fmt_time(model.updated_at)),
            ("aliases", ", ".join(f"{a} -> v{v}" for a, v in sorted(model.aliases.items())) or "-"),
            ("tags", ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items())) or "-"),
        ]:
            head.add_row(f"[bold]{label}", str(value))
        console.print(head)
        console.print(_versions_table(versions))

    emit(data, as_json, render)


def _versions_table(versions: list[ModelVersion]) -> Any:
    from rich.table import Table

    table = Table("version", "status", "aliases", "flavor", "source", "created", "by")
    for v in versions:
        table.add_row(
            str(v.version),
            f"[{_STATUS_STYLE.get(v.status.value, '')}]{v.status.value}",
            ", ".join(v.aliases),
            v.flavor,
            v.source,
            fmt_time(v.created_at),
            v.created_by or "-",
        )
    return table


@models.command("versions")
@click.argument("name")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted versions.")
@json_option
def versions(name: str, include_deleted: bool, as_json: bool) -> None:
    """List the versions of NAME, newest first."""
    items = _registry().versions(name, include_deleted=include_deleted)
    emit(
        [v.to_dict() for v in items],
        as_json,
        lambda c: c.print(_versions_table(items) if items else f"{name} has no versions"),
    )


@models.command("register")
@click.argument("source", metavar="RUN_ID/NAME")
@click.argument("name")
@click.option("--description", "-d", default="", help="Version description.")
@click.option("--alias", default=None, help="Also point this alias at the new version.")
@json_option
def register(source: str, name: str, description: str, alias: str | None, as_json: bool) -> None:
    """Register the model logged at RUN_ID/NAME (or runs:/RUN_ID/NAME) as a new version."""
    version = _registry().register(source, name, description=description, alias=alias)
    emit(
        version.to_dict(),
        as_json,
        lambda c: c.print(
            f"registered {version.name} version {version.version} from {version.source}"
            + (f" (alias {alias})" if alias else "")
        ),
    )


@models.group("alias")
def alias() -> None:
    """Point aliases (champion, challenger, …) at versions, or remove them."""


@alias.command("set")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", type=int)
@click.option(
    "--expect",
    "expected",
    type=int,
    default=None,
    help="Move only if the alias still points at this version (compare-and-set).",
)
@json_option
def alias_set(
    name: str, alias_name: str, version: int, expected: int | None, as_json: bool
) -> None:
    """Point ALIAS of NAME at VERSION (one atomic step, recorded in the audit log)."""
    before = _registry().set_alias(name, alias_name, version, expected_version=expected)
    data = {"model": name, "alias": alias_name, "version": version, "previous": before}
    emit(
        data,
        as_json,
        lambda c: c.print(
            f"{name}@{alias_name} -> version {version}"
            + (f" (was {before})" if before is not None else "")
        ),
    )


@alias.command("delete")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@json_option
def alias_delete(name: str, alias_name: str, as_json: bool) -> None:
    """Remove ALIAS from NAME."""
    was = _registry().delete_alias(name, alias_name)
    emit(
        {"model": name, "alias": alias_name, "previous": was},
        as_json,
        lambda c: c.print(f"removed {name}@{alias_name} (was version {was})"),
    )


@models.command("archive")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--force", is_flag=True, help="Also remove aliases pointing at the version.")
@json_option
def archive(name: str, version: int, force: bool, as_json: bool) -> None:
    """Archive VERSION of NAME (still loadable by number; no alias may point at it)."""
    v = _registry().archive_version(name, version, force=force)
    emit(v.to_dict(), as_json, lambda c: c.print(f"archived {name} version {version}"))


@models.command("restore")
@click.argument("name")
@click.argument("version", type=int)
@json_option
def restore(name: str, version: int, as_json: bool) -> None:
    """Bring an archived VERSION of NAME back to READY."""
    v = _registry().restore_version(name, version)
    emit(v.to_dict(), as_json, lambda c: c.print(f"restored {name} version {version}"))


@models.command("delete")
@click.argument("name")
@click.argument("version", type=int, required=False)
@click.option("--force", is_flag=True, help="Also remove aliases pointing at the version.")
@click.option("--yes", is_flag=True, help="Do not ask before deleting a whole model.")
@json_option
def delete(name: str, version: int | None, force: bool, yes: bool, as_json: bool) -> None:
    """Delete VERSION of NAME, or the whole model when no VERSION is given."""
    registry = _registry()
    if version is None:
        if not yes:
            click.confirm(f"delete model {name} with all its versions and aliases?", abort=True)
        registry.delete_model(name)
        emit({"deleted": name}, as_json, lambda c: c.print(f"deleted model {name}"))
        return
    v = registry.delete_version(name, version, force=force)
    emit(v.to_dict(), as_json, lambda c: c.print(f"deleted {name} version {version}"))


@models.command("lineage")
@click.argument("ref", metavar="NAME@ALIAS")
@json_option
def lineage(ref: str, as_json: bool) -> None:
    """Walk NAME@ALIAS (or NAME/VERSION) back to its run, code, environment and datasets."""
    data = _registry().lineage(ref)
    emit(data, as_json, lambda c: _render_lineage(c, data))


def _render_lineage(console: Console, data: dict[str, Any]) -> None:
    from rich.tree import Tree

    v = data["version"]
    root = Tree(f"[bold]{v['name']} version {v['version']}[/] ({v['status']}, {v['flavor']})")
    root.add(f"source {v['source']}  manifest sha256 {v['manifest_digest'][:12]}…")
    run = data.get("run")
    if run is None:
        root.add(data.get("run_note") or "no source run")
    else:
        node = root.add(f"run [bold]{run['name']}[/] {run['id']} ({run['status']}, {run['user']})")
        if run["params"]:
            params = node.add("params")
            for k, value in sorted(run["params"].items()):
                params.add(f"{k} = {value}")
        if run["metrics"]:
            metrics = node.add("metrics")
            for k, value in sorted(run["metrics"].items()):
                metrics.add(f"{k} = {fmt_number(value)}")
        code = run.get("code") or {}
        node.add(
            "code " + (", ".join(f"{k}={v}" for k, v in sorted(code.items())) or "not recorded")
        )
        env = data.get("environment") or {}
        if env.get("note"):
            node.add(f"environment: {env['note']}")
        else:
            pk = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items())
            node.add(f"environment Python {env.get('python')} on {env.get('os')}; {pk}")
    ds = data.get("datasets") or {}
    dnode = root.add("datasets")
    for item in ds.get("inputs") or []:
        dnode.add(json.dumps(item, default=str, sort_keys=True)[:200])
    if ds.get("note"):
        dnode.add(ds["note"])
    console.print(root)


@models.command("audit")
@click.argument("name")
@click.option("--limit", "-n", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@json_option
def audit(name: str, limit: int, as_json: bool) -> None:
    """Print the audit log of NAME: who changed what, when, before and after."""
    entries = _registry().audit(name, limit=limit)

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("#", "time", "actor", "action", "version", "before", "after")
        for e in entries:
            table.add_row(
                str(e.id),
                fmt_time(e.timestamp),
                e.actor,
                e.action,
                "" if e.version is None else str(e.version),
                "" if e.before is None else json.dumps(e.before, sort_keys=True),
                "" if e.after is None else json.dumps(e.after, sort_keys=True),
            )
        console.print(table if entries else f"no audit entries for {name}")

    emit([e.to_dict() for e in entries], as_json, render)


@models.command("export")
@click.argument("ref", metavar="NAME@ALIAS")
@click.option("--format", "format_", type=click.Choice(["onnx"]), default="onnx", show_default=True)
@click.option("--output", "-o", required=True, type=click.Path(), help="File (or folder) to write.")
@json_option
def export(ref: str, format_: str, output: str, as_json: bool) -> None:
    """Export the model NAME@ALIAS (or NAME/VERSION) to a file, e.g. ONNX."""
    from modelward.models.uri import parse_registry_ref

    uri = str(parse_registry_ref(ref))
    path = get_context().client.models.export(uri, output, format=format_)
    emit(
        {"uri": uri, "format": format_, "path": str(path)},
        as_json,
        lambda c: c.print(f"wrote {path}"),
    )
