"""Generate the CLI reference (docs/cli.md) from the commands' own help.

Run ``python -m modelward.cli.reference > docs/cli.md`` after changing a command; a test fails
when the committed reference is stale.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from modelward.cli.main import cli

__all__ = ["command_paths", "render"]


# The same help option names as the real CLI, so the reference shows what users see.
_HELP_NAMES = ["-h", "--help"]


def _walk(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1], help_option_names=_HELP_NAMES)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not getattr(sub, "hidden", False):
                yield from _walk(sub, [*path, name])


def command_paths() -> list[str]:
    """Every command path, e.g. ``"modelward runs list"``."""
    return [" ".join(path) for path, _ in _walk(cli, ["modelward"])]


def _help(path: list[str], command: click.Command) -> str:
    # Build the chain of contexts from the real command at each level, so usage lines read
    # "modelward data diff [OPTIONS] A B" as they do at a terminal.
    ctx: click.Context | None = None
    current: click.Command = cli
    for depth, name in enumerate(path):
        if depth:
            assert isinstance(current, click.Group)
            assert ctx is not None
            found = current.get_command(ctx, name)
            assert found is not None
            current = found
        ctx = click.Context(current, info_name=name, parent=ctx, help_option_names=_HELP_NAMES)
    assert ctx is not None
    assert current is command
    formatter = ctx.make_formatter()
    formatter.width = 100
    command.format_help(ctx, formatter)
    return formatter.getvalue().rstrip()


def render() -> str:
    """Return the whole reference as Markdown."""
    parts = [
        "# CLI reference",
        "",
        "Generated from `--help` by `python -m modelward.cli.reference > docs/cli.md`.",
        "Every command prints one line on failure and exits non-zero: 1 for a modelward error",
        "(bad input, not found, conflict, …), 2 for a usage error, 3 for an internal error",
        "(rerun with `--debug` for the traceback). Commands that print data accept `--json`.",
        "",
    ]
    for path, command in _walk(cli, ["modelward"]):
        parts += [f"## {' '.join(path)}", "", "```text", _help(path, command), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    click.echo(render(), nl=False)
