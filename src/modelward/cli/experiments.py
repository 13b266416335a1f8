"""``modelward experiments``: list, create and delete experiments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from modelward.cli._context import emit, get_context, json_option
from modelward.cli._format import fmt_time

if TYPE_CHECKING:
    from rich.console import Console

    from modelward.entities import Experiment

__all__ = ["experiments"]


@click.group()
def experiments() -> None:
    """List, create and delete experiments."""


@experiments.command("list")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted experiments.")
@json_option
def list_(include_deleted: bool, as_json: bool) -> None:
    """List experiments, oldest first."""
    items = get_context().client.tracking.list_experiments(include_deleted=include_deleted)

    def render(console: Console) -> None:
        from rich.table import Table

        table = Table("name", "id", "created", "state", "tags")
        for e in items:
            tags = ", ".join(f"{k}={v}" for k, v in sorted(e.tags.items()))
            table.add_row(e.name, e.id, fmt_time(e.created_at), e.lifecycle_stage.value, tags)
        console.print(table if items else "no experiments yet")

    emit([_exp_dict(e) for e in items], as_json, render)


@experiments.command("create")
@click.argument("name")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag (repeatable).")
@json_option
def create(name: str, tags: tuple[str, ...], as_json: bool) -> None:
    """Create an experiment called NAME."""
    exp = get_context().client.tracking.create_experiment(name, parse_pairs(tags, "--tag"))
    emit(_exp_dict(exp), as_json, lambda c: c.print(f"created experiment {exp.name} ({exp.id})"))


@experiments.command("delete")
@click.argument("name_or_id")
@json_option
def delete(name_or_id: str, as_json: bool) -> None:
    """Soft-delete an experiment and its runs."""
    tracking = get_context().client.tracking
    exp = tracking.get_experiment(name_or_id)
    tracking.delete_experiment(exp.id)
    emit({"deleted": exp.id}, as_json, lambda c: c.print(f"deleted experiment {exp.name}"))


def _exp_dict(e: Experiment) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "lifecycle_stage": e.lifecycle_stage.value,
        "created_at": e.created_at,
        "tags": dict(e.tags),
    }


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` options into a dict, with a usage error for a malformed one."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        out[key] = value
    return out
