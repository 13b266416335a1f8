"""Trial records, winner selection and the leaderboard table.

A :class:`TrialRecord` is what the driver knows about a trial once it ended (or was
interrupted): enough to rank it, rebuild it for the refit, and resume a search. Ranking uses
the mean of the selection metric over folds; ties go to the earlier trial (candidate order,
then trial index), so the winner never depends on which trial finished first.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelward.training.metrics import greater_is_better

__all__ = ["TrialRecord", "leaderboard_csv", "leaderboard_rows", "rank", "select_winner"]


@dataclass
class TrialRecord:
    """One trial as recorded in its nested run.

    Attributes:
        candidate: Candidate index in the spec.
        index: Trial index within the candidate.
        label: Candidate name.
        estimator: Import path of the estimator class.
        params: Searched params.
        status: ``FINISHED``, ``FAILED`` or ``KILLED``.
        run_id: The trial's nested run.
        mean: Mean of each metric over the folds.
        std: Standard deviation of each metric over the folds.
        fit_seconds: Mean fitting time per fold.
        device: What it ran on.
        error: Why it failed.
    """

    candidate: int
    index: int
    label: str
    estimator: str
    params: dict[str, Any]
    status: str
    run_id: str
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    fit_seconds: float = math.nan
    device: str = ""
    error: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        """``(candidate, index)``."""
        return (self.candidate, self.index)

    def score(self, metric: str) -> float | None:
        """The mean of ``metric`` if the trial finished with it, else ``None``."""
        if self.status != "FINISHED":
            return None
        value = self.mean.get(metric)
        if value is None or math.isnan(value):
            return None
        return value


def rank(records: Sequence[TrialRecord], metric: str) -> list[TrialRecord]:
    """Records best first; trials without a score come last, in trial order."""
    sign = -1.0 if greater_is_better(metric) else 1.0

    def key(r: TrialRecord) -> tuple[int, float, int, int]:
        s = r.score(metric)
        return (0 if s is not None else 1, sign * s if s is not None else 0.0, *r.key)

    return sorted(records, key=key)


def select_winner(records: Sequence[TrialRecord], metric: str) -> TrialRecord | None:
    """The best finished trial, or ``None`` when none finished with a score."""
    ranked = rank(records, metric)
    if ranked and ranked[0].score(metric) is not None:
        return ranked[0]
    return None


def leaderboard_rows(
    records: Sequence[TrialRecord], metric: str, metric_names: Sequence[str]
) -> list[dict[str, Any]]:
    """One JSON-friendly row per trial, best first."""
    rows = []
    for position, r in enumerate(rank(records, metric), start=1):
        score = r.score(metric)
        row: dict[str, Any] = {
            "rank": position if score is not None else None,
            "trial": f"{r.label}-{r.index}",
            "candidate": r.label,
            "estimator": r.estimator,
            "params": dict(r.params),
            "status": r.status,
            f"mean_{metric}": score,
            f"std_{metric}": r.std.get(metric) if score is not None else None,
        }
        for name in metric_names:
            if name != metric:
                row[f"mean_{name}"] = r.mean.get(name)
        row["fit_seconds"] = None if math.isnan(r.fit_seconds) else r.fit_seconds
        row["device"] = r.device
        row["run_id"] = r.run_id
        row["error"] = r.error
        rows.append(row)
    return rows


def leaderboard_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The leaderboard rows as CSV text (params as ``k=v; …``)."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        flat["params"] = "; ".join(f"{k}={v}" for k, v in sorted(row["params"].items()))
        writer.writerow({k: "" if v is None else v for k, v in flat.items()})
    return buffer.getvalue()
