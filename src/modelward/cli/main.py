"""The ``modelward`` entry point: a Click group whose sub-groups load on first use.

Every failure ends with one line on stderr and a non-zero exit code, never a traceback
(``--debug`` shows it): 1 for a modelward error (bad input, not found, conflict, …), 2 for a
usage error, 3 for an unexpected internal error.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from modelward._version import __version__

__all__ = ["cli", "main"]

#: Sub-command name -> "module:attribute". Modules import only when their command runs.
COMMANDS: dict[str, str] = {
    "alerts": "modelward.cli.alerts:alerts",
    "data": "modelward.cli.data:data",
    "db": "modelward.cli.db:db",
    "deploy": "modelward.cli.deploy:deploy",
    "experiments": "modelward.cli.experiments:experiments",
    "feedback": "modelward.cli.serve:feedback",
    "models": "modelward.cli.models:models",
    "monitor": "modelward.cli.monitor:monitor",
    "predict": "modelward.cli.serve:predict",
    "runs": "modelward.cli.runs:runs",
    "serve": "modelward.cli.serve:serve",
    "train": "modelward.cli.train:train",
}

_HELP: dict[str, str] = {
    "alerts": "List, acknowledge and resolve monitoring alerts.",
    "data": "Ingest, version, validate, prepare, split, query and compare datasets.",
    "db": "Create or upgrade the metadata database schema.",
    "deploy": "Create, list, show, update, roll back and delete deployments.",
    "experiments": "List, create and delete experiments.",
    "feedback": "Attach ground-truth labels to logged predictions.",
    "models": "Registered models: versions, aliases, audit log, lineage and export.",
    "monitor": "Drift, data quality, performance and anomaly monitors; reports and watch.",
    "predict": "Batch-predict a Parquet or CSV file with a model.",
    "runs": "List, search, show, compare and delete runs.",
    "serve": "Serve a deployment or model over HTTP (OIP v2, MLflow, /predict).",
    "train": "Train and select a model from a YAML spec (CV, search, executors).",
}


class LazyGroup(click.Group):
    """A group that imports a sub-command's module only when that sub-command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):  # pragma: no cover - programming error
            raise TypeError(f"{target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Describe sub-commands without importing them, so `modelward --help` stays fast.
        rows = [(name, _HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="modelward")
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of the embedded store [env MODELWARD_HOME; default ./.modelward].",
)
@click.option("--uri", default=None, help="Metadata store URI [env MODELWARD_URI].")
@click.option("--artifacts", default=None, help="Artifact location [env MODELWARD_ARTIFACTS].")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.pass_context
def cli(
    ctx: click.Context, home: str | None, uri: str | None, artifacts: str | None, debug: bool
) -> None:
    """modelward: track, version, train, register, serve and monitor models."""
    from modelward.cli._context import CliContext

    ctx.obj = CliContext(home=home, uri=uri, artifacts=artifacts, debug=debug)
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn every error into one line and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="modelward", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        _fail(exc, debug)
    sys.exit(0)


def _fail(exc: Exception, debug: bool) -> Any:
    from modelward.errors import ModelwardError

    if debug:
        import traceback

        traceback.print_exc()
    if isinstance(exc, ModelwardError):
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        click.echo(f"error: {exc.strerror}{where}", err=True)
        sys.exit(1)
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    click.echo(
        f"internal error: {type(exc).__name__}: {message} (rerun with --debug for details)",
        err=True,
    )
    sys.exit(3)
