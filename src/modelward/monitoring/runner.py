"""One run of a monitor: evaluate the due windows, score anomalies, apply late labels, alert.

A run (``modelward monitor run NAME``, or each cycle of ``monitor watch``):

1. resolves the reference (cached while the deployment serves the same model version);
2. finds the due windows (see :mod:`modelward.monitoring.windows`) and reads the prediction
   log once for all of them, joined with the labels received so far;
3. evaluates each window, oldest first: stores its values, scores the configured series for
   anomalies against their own history, and evaluates the alert rules;
4. applies late labels: feedback received since the previous run that belongs to windows
   already evaluated (within ``label_horizon``) recomputes those windows' performance (their
   stored values are replaced), and the performance rules are evaluated at each of them;
5. records its progress (window cursor, feedback watermark).

Work per run is bounded by ``window.max_windows``; a monitor that is behind catches up over
several runs.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelward.entities import now_ms
from modelward.entities.monitoring import MonitorResult
from modelward.monitoring.evaluate import WindowEvaluation, WindowEvaluator, performance_results
from modelward.monitoring.windows import (
    DAY_MS,
    Window,
    after_cursor,
    due_time_windows,
    filter_roles,
    row_blocks,
    slice_time,
    time_label,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from modelward.entities.monitoring import Monitor
    from modelward.monitoring.alerts import AlertEvent, AlertManager
    from modelward.monitoring.reference import Reference, ReferenceResolver
    from modelward.monitoring.spec import MonitorSpec
    from modelward.store.metadata.base import MetadataStore

__all__ = ["MonitorRunner", "RunResult"]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What one run did.

    Attributes:
        monitor: Monitor name.
        windows: Per evaluated window: window, rows, drift verdict, quality, performance.
        late_windows: Windows whose performance late labels recomputed.
        alerts: Alerts fired, updated or resolved.
        anomalies: Series flagged as anomalous (``key``, window, score).
        reference: The resolved reference.
        seconds: Wall time of the run.
        message: Why nothing was evaluated, if nothing was.
    """

    monitor: str
    windows: list[dict[str, Any]] = field(default_factory=list)
    late_windows: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[AlertEvent] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    reference: dict[str, Any] | None = None
    seconds: float = 0.0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "monitor": self.monitor,
            "windows": self.windows,
            "late_windows": self.late_windows,
            "alerts": [e.to_dict() for e in self.alerts],
            "anomalies": self.anomalies,
            "reference": self.reference,
            "seconds": self.seconds,
            "message": self.message,
        }


def window_summary(evaluation: WindowEvaluation) -> dict[str, Any]:
    """The short per-window line of a run result."""
    drift, quality, perf = evaluation.drift, evaluation.quality, evaluation.performance
    return {
        "window": evaluation.window.to_dict(),
        "rows": evaluation.rows,
        "drift": None
        if drift is None
        else {
            "verdict": drift.verdict.value,
            "share": drift.share,
            "drifted_columns": list(drift.drifted_columns),
        },
        "quality": None
        if quality is None
        else {"passed": quality.passed, "failed_columns": list(quality.failed_columns)},
        "performance": None
        if perf is None
        else {"labelled": perf.labelled, "metrics": dict(perf.metrics), "deltas": perf.deltas},
        "notes": dict(evaluation.notes),
    }


class MonitorRunner:
    """Runs monitors (one instance is shared by the service and ``watch``).

    Args:
        client: The client (deployments, datasets, store).
        resolver: Reference resolver (keeps profiles cached).
        alerts: The alert manager.
        clock: Current time in ms (decides which windows are due).
    """

    def __init__(
        self,
        client: Any,
        resolver: ReferenceResolver,
        alerts: AlertManager,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.client = client
        self.store: MetadataStore = client.store
        self.resolver = resolver
        self.alerts = alerts
        self.clock = clock
        self._evaluators: dict[tuple[str, int, str, int | None], WindowEvaluator] = {}

    def evaluator(self, spec: MonitorSpec, monitor: Monitor) -> tuple[WindowEvaluator, Reference]:
        """The fitted evaluator of a monitor (refitted when its definition or model changes)."""
        reference = self.resolver.resolve(spec)
        key = (spec.name, monitor.updated_at, reference.ref, reference.version)
        found = self._evaluators.get(key)
        if found is None:
            found = WindowEvaluator(spec, reference, dataset_windows=spec.window.type == "dataset")
            if len(self._evaluators) > 64:
                self._evaluators.clear()
            self._evaluators[key] = found
        return found, found.reference

    def read_log(self, spec: MonitorSpec, start: int | None, end: int | None) -> pa.Table:
        """The deployment's log rows in ``[start, end)`` for the monitored roles."""
        assert spec.deployment is not None
        table = self.client.deployments.read_predictions(
            spec.deployment, start=start, end=end, with_feedback=spec.checks.performance.enabled
        )
        return filter_roles(table, spec.window.roles)

    def run(self, monitor: Monitor, spec: MonitorSpec, *, now: int | None = None) -> RunResult:
        """One run (see the module docstring)."""
        began = time.monotonic()
        now = self.clock() if now is None else now
        feedback_mark = now_ms()  # feedback times are wall-clock times, whatever ``now`` says
        state = dict(monitor.state)
        evaluator, reference = self.evaluator(spec, monitor)
        result = RunResult(spec.name, reference=reference.to_dict())
        if spec.window.type == "dataset":
            batches = self._dataset_window(spec, state)
        elif spec.window.type == "rows":
            batches = self._row_windows(spec, state, now)
        else:
            batches = self._time_windows(spec, state, now)
        done: set[tuple[int, int]] = set()
        for window, table in batches:
            labelled = "label" in table.column_names
            evaluation = evaluator.evaluate(window, table, labelled=labelled)
            self._store(spec, evaluation, result)
            done.add((window.start, window.end))
        if not batches:
            result.message = "no window is due yet"
        if (
            spec.deployment is not None
            and spec.window.type != "dataset"
            and spec.checks.performance.enabled
        ):
            since = state.get("feedback_watermark")
            if since is not None:
                self._late_labels(spec, evaluator, int(since), feedback_mark, now, done, result)
            state["feedback_watermark"] = feedback_mark
        self.store.set_monitor_state(spec.name, state, last_run_at=now_ms())
        result.seconds = time.monotonic() - began
        return result

    # -- windows ---------------------------------------------------------------------------------
    def _time_windows(
        self, spec: MonitorSpec, state: dict[str, Any], now: int
    ) -> list[tuple[Window, pa.Table]]:
        due = due_time_windows(spec.window, state, now)
        if not due:
            return []
        table = self.read_log(spec, due[0][0], due[-1][1])
        state["cursor"] = due[-1][1]
        return [
            (Window(s, e, "time", label=time_label(s, e)), slice_time(table, s, e)) for s, e in due
        ]

    def _row_windows(
        self, spec: MonitorSpec, state: dict[str, Any], now: int
    ) -> list[tuple[Window, pa.Table]]:
        cursor = state.get("row_cursor")
        end = now - int(spec.window.lag * 1000)
        start = int(cursor[0]) if cursor else end - DAY_MS
        table = self.read_log(spec, start, end)
        if cursor:
            table = after_cursor(table, (int(cursor[0]), str(cursor[1]), int(cursor[2])))
        blocks = row_blocks(table, spec.window, first_run=not cursor)
        if blocks:
            last = blocks[-1][0].cursor
            assert last is not None
            state["row_cursor"] = list(last)
        return blocks

    def _dataset_window(
        self, spec: MonitorSpec, state: dict[str, Any]
    ) -> list[tuple[Window, pa.Table]]:
        assert spec.window.dataset is not None
        datasets = self.client.datasets
        version = datasets.get(spec.window.dataset)
        if state.get("dataset_evaluated") == version.id:
            return []
        state["dataset_evaluated"] = version.id
        table = datasets.load_arrow(version)
        window = Window(
            version.created_at,
            version.created_at + 1,
            "dataset",
            str(version.ref),
            str(version.ref),
        )
        return [(window, table)]

    # -- storing, anomalies, alerts ----------------------------------------------------------------
    def _store(self, spec: MonitorSpec, evaluation: WindowEvaluation, result: RunResult) -> None:
        results = evaluation.results()
        results += self._anomalies(spec, evaluation.window, results, result)
        self.store.put_monitor_results(results)
        result.windows.append(window_summary(evaluation))
        result.alerts.extend(self.alerts.evaluate(spec, window_start=evaluation.window.start))

    def _anomalies(
        self,
        spec: MonitorSpec,
        window: Window,
        results: list[MonitorResult],
        run: RunResult,
    ) -> list[MonitorResult]:
        check = spec.checks.anomaly
        if not check.enabled:
            return []
        from modelward.monitoring.anomaly import EWMADetector, RobustZScoreDetector

        values = {r.key: r.value for r in results}
        out = []
        for key in check.series:
            value = values.get(key)
            if value is None or not math.isfinite(value):
                continue
            past = self.store.list_monitor_results(
                spec.name, keys=[key], end=window.start, limit=check.history
            )
            history = [p.value for p in past if p.value is not None and math.isfinite(p.value)]
            if len(history) < check.min_history:
                continue
            detector: Any = (
                RobustZScoreDetector(**check.params)
                if check.method == "robust_zscore"
                else EWMADetector(**check.params)
            )
            scored = detector.fit(history).score([value])
            score = float(scored.scores[0])
            flagged = bool(scored.anomalous[0])
            out.append(
                MonitorResult(
                    spec.name,
                    window.start,
                    window.end,
                    f"anomaly.{key}",
                    score if math.isfinite(score) else None,
                    {
                        "anomalous": flagged,
                        "value": value,
                        "threshold": scored.threshold,
                        "direction": scored.direction,
                        "method": check.method,
                        "history": len(history),
                    },
                )
            )
            if flagged:
                run.anomalies.append(
                    {"key": key, "window": window.to_dict(), "value": value, "score": score}
                )
        return out

    # -- late labels -------------------------------------------------------------------------------
    def _late_labels(
        self,
        spec: MonitorSpec,
        evaluator: WindowEvaluator,
        since: int,
        until: int,
        now: int,
        done: set[tuple[int, int]],
        result: RunResult,
    ) -> None:
        assert spec.deployment is not None
        fresh = self.store.list_feedback(spec.deployment, start=since, end=until)
        if not fresh:
            return
        horizon = now - int(spec.checks.performance.label_horizon * 1000)
        stored = self.store.list_monitor_results(spec.name, keys=["window.rows"], start=horizon)
        windows = [
            (r.window_start, r.window_end)
            for r in stored
            if (r.window_start, r.window_end) not in done
        ]
        if not windows:
            return
        table = self.read_log(spec, min(s for s, _ in windows), max(e for _, e in windows))
        ids = {f.request_id for f in fresh}
        times = table.column("time").cast("int64").to_pylist()
        touched: set[tuple[int, int]] = set()
        for rid, t in zip(table.column("request_id").to_pylist(), times, strict=True):
            if rid in ids:
                touched.update((s, e) for s, e in windows if s <= t < e)
        for start, end in sorted(touched):
            window = Window(start, end, "late", label=time_label(start, end))
            perf = evaluator.performance(slice_time(table, start, end))
            self.store.put_monitor_results(performance_results(spec.name, window, perf))
            result.late_windows.append(
                {
                    "window": window.to_dict(),
                    "labelled": perf.labelled,
                    "metrics": dict(perf.metrics),
                }
            )
            # The performance rules look at the recomputed window as they would have, had the
            # labels come in time: a bad past window fires (and resolves at the next good one).
            result.alerts.extend(
                self.alerts.evaluate(spec, window_start=start, prefix="performance.")
            )
