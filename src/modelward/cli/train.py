"""``modelward train SPEC``: cross-validated model selection from a YAML spec.

Draws progress bars over trials and folds (on a terminal), prints the leaderboard, the
winner's test metrics and where its model is. Ctrl-C stops cleanly: finished trials stay
recorded, the parent run is marked KILLED, and the command prints how to resume.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from modelward.cli._context import emit, get_context, json_option
from modelward.cli._format import fmt_number

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from modelward.training.leaderboard import TrialRecord
    from modelward.training.space import TrialPlan

__all__ = ["train"]

_STATUS_STYLE = {"FINISHED": "green", "FAILED": "red", "KILLED": "yellow"}


def _listener(progress: Progress | None) -> Any:
    from modelward.training.search import SearchListener

    class Bars(SearchListener):
        """Progress bars over trials and folds."""

        def __init__(self) -> None:
            self.run_id: str | None = None
            self.folds = 1
            self.trials_bar: Any = None
            self.folds_bar: Any = None
            self.fold_counts: dict[tuple[int, int], int] = {}

        def search_started(self, run_id: str, total_trials: int, folds: int, resumed: int) -> None:
            self.run_id = run_id
            self.folds = folds
            if progress is None:
                return
            self.trials_bar = progress.add_task("trials", total=total_trials, completed=resumed)
            self.folds_bar = progress.add_task(
                "folds", total=total_trials * folds, completed=resumed * folds
            )

        def trial_started(self, plan: TrialPlan, name: str) -> None:
            if progress is not None and self.trials_bar is not None:
                progress.update(self.trials_bar, description=f"trials (last: {name})")

        def fold_done(self, candidate: int, index: int, fold: int) -> None:
            key = (candidate, index)
            self.fold_counts[key] = self.fold_counts.get(key, 0) + 1
            if progress is not None and self.folds_bar is not None:
                progress.advance(self.folds_bar)

        def trial_ended(self, record: TrialRecord) -> None:
            if progress is None or self.trials_bar is None:
                return
            progress.advance(self.trials_bar)
            missing = self.folds - self.fold_counts.pop(record.key, 0)
            if missing > 0:  # folds not reported while running (ray) or lost to a failure
                progress.advance(self.folds_bar, missing)

    return Bars()


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--register", "register", default=None, help="Register the winner under NAME.")
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where trials run: worker processes here, or Ray.",
)
@click.option("--address", default=None, help="Ray cluster HOST:PORT (with --executor ray).")
@click.option(
    "--workers",
    type=click.IntRange(1, 4096),
    default=None,
    help="Most trials at once (default: CPU cores / CPUs per trial).",
)
@click.option(
    "--from",
    "from_model",
    default=None,
    help="Continue a registered model (models:/NAME@ALIAS) on the spec's data.",
)
@click.option("--resume", default=None, help="Continue the interrupted search RUN_ID.")
@json_option
def train(
    spec: str,
    register: str | None,
    executor: str,
    address: str | None,
    workers: int | None,
    from_model: str | None,
    resume: str | None,
    as_json: bool,
) -> None:
    """Train and select a model as SPEC (YAML) describes; see docs/training.md."""
    from modelward.training.spec import load_spec

    parsed = load_spec(spec, from_model=from_model)
    service = get_context().client.training
    show_bars = not as_json and sys.stderr.isatty()
    progress = _progress() if show_bars else None
    listener = _listener(progress)
    try:
        if progress is not None:
            progress.start()
        result = service.train(
            parsed,
            executor=executor,
            workers=workers,
            address=address,
            register=register,
            from_model=from_model,
            resume=resume,
            listener=listener,
        )
    except KeyboardInterrupt:
        if progress is not None:
            progress.stop()
        if listener.run_id is not None:
            click.echo(
                f"interrupted: finished trials are kept in run {listener.run_id} (KILLED); "
                f"resume with: modelward train {spec} --resume {listener.run_id}",
                err=True,
            )
        raise
    finally:
        if progress is not None:
            progress.stop()
    data = result.to_dict()

    def render(console: Console) -> None:
        _render(console, data)

    emit(data, as_json, render)


def _progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


def _render(console: Console, data: dict[str, Any]) -> None:
    from rich.table import Table

    metric = data["metric"]
    rows = data["leaderboard"]
    if rows:
        table = Table(
            "#",
            "trial",
            "params",
            f"cv {metric}",
            "±",
            "status",
            "device",
            title=f"leaderboard ({len(rows)} trials, best first)",
            title_justify="left",
        )
        for row in rows[:15]:
            score = row.get(f"mean_{metric}")
            spread = row.get(f"std_{metric}")
            params = ", ".join(f"{k}={v}" for k, v in sorted(row["params"].items()))
            status = row["status"]
            table.add_row(
                str(row["rank"] or "-"),
                row["trial"],
                params if len(params) <= 60 else params[:57] + "...",
                fmt_number(score) if score is not None else "",
                fmt_number(spread) if spread is not None else "",
                f"[{_STATUS_STYLE.get(status, '')}]{status}",
                row.get("device") or "",
            )
        console.print(table)
        if len(rows) > 15:
            console.print(f"… {len(rows) - 15} more in the run's leaderboard.csv")
    winner = data.get("winner")
    if winner:
        console.print(
            f"[bold]winner[/bold] {winner['trial']} ({winner['estimator']}) "
            f"cv {metric} {fmt_number(data['cv_score'])}"
        )
    tests = "  ".join(f"{k} {fmt_number(v)}" for k, v in data["test_metrics"].items())
    console.print(f"[bold]test[/bold] ({data['dataset']}): {tests}")
    console.print(f"run {data['run_id']}  model {data['model_uri']}")
    if data.get("registered"):
        reg = data["registered"]
        console.print(f"registered [bold]{reg['name']}[/bold] version {reg['version']}")
    console.print(f"{data['seconds']:.1f} s")
