"""The monitoring service (``client.monitoring``): monitors, runs, results, reports and alerts.

What the CLI (``modelward monitor …``, ``modelward alerts …``) and, later, the web UI call::

    mon = client.monitoring
    mon.create("monitor.yaml")                     # or a dict, or a MonitorSpec
    mon.run("churn-prod")                          # evaluate the due windows now
    mon.series("churn-prod", "drift.share")        # the stored time series
    mon.write_report("churn-prod", "report.html", window="last:1d")
    mon.alerts(status=["firing"]); mon.acknowledge(alert_id)
    mon.watch(stop_event)                          # run every monitor on its schedule

Notifications are delivered on a background thread (see
:mod:`modelward.monitoring.notifiers.dispatch`); :meth:`MonitoringService.close` waits for
them (bounded) and is called by :meth:`modelward.client.Client.close`.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelward.entities import now_ms
from modelward.entities.monitoring import Alert, AlertStatus, Monitor, MonitorResult, Notification
from modelward.errors import InvalidInput, ModelwardError, NotFound
from modelward.monitoring.spec import MonitorSpec

if TYPE_CHECKING:
    from modelward.monitoring.alerts import AlertManager
    from modelward.monitoring.anomaly import AnomalyResult
    from modelward.monitoring.notifiers.dispatch import Dispatcher
    from modelward.monitoring.runner import MonitorRunner, RunResult
    from modelward.store.metadata.base import MetadataStore

__all__ = ["DefinitionLike", "MonitoringService"]

log = logging.getLogger(__name__)

#: A monitor definition: a spec, its dict form, a YAML file path or YAML text.
DefinitionLike = MonitorSpec | Mapping[str, Any] | str | Path


class MonitoringService:
    """Monitors over a client's deployments, datasets and registry.

    Args:
        client: The :class:`~modelward.client.Client`.
        secrets: Environment variables notifiers may read (``url_env``, ``password_env``);
            entry points pass ``os.environ``, library code passes nothing.
        clock: Current time in ms (which windows are due, alert times); tests fake it.
    """

    def __init__(
        self,
        client: Any,
        *,
        secrets: Mapping[str, str] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        from modelward.monitoring.alerts import AlertManager
        from modelward.monitoring.notifiers.dispatch import Dispatcher
        from modelward.monitoring.reference import ReferenceResolver
        from modelward.monitoring.runner import MonitorRunner

        self.client = client
        self.store: MetadataStore = client.store
        self.clock = clock
        self.dispatcher: Dispatcher = Dispatcher(self.store, secrets=secrets, clock=clock)
        self.alert_manager: AlertManager = AlertManager(self.store, self.dispatcher, clock=clock)
        self.resolver = ReferenceResolver(client)
        self.runner: MonitorRunner = MonitorRunner(
            client, self.resolver, self.alert_manager, clock=clock
        )

    def use_secrets(self, secrets: Mapping[str, str]) -> None:
        """Let notifiers read these environment variables (entry points pass ``os.environ``)."""
        self.dispatcher.secrets = secrets

    # -- definitions -----------------------------------------------------------------------------
    @staticmethod
    def parse(definition: DefinitionLike) -> MonitorSpec:
        """Validate a definition (spec, dict, YAML file or YAML text)."""
        if isinstance(definition, MonitorSpec):
            return definition
        if isinstance(definition, Mapping):
            return MonitorSpec.from_dict(definition)
        from modelward.datasets.yamlio import load_yaml

        return MonitorSpec.from_dict(load_yaml(definition, "monitor definition"))

    def create(self, definition: DefinitionLike, *, replace: bool = False) -> Monitor:
        """Create a monitor (or replace its definition with ``replace``).

        The deployment and the reference are resolved now, so a typo fails here rather than
        in the first run.

        Raises:
            AlreadyExists: The name is taken (and not ``replace``).
            InvalidInput: The definition is invalid or no reference can be found.
            NotFound: The deployment or a dataset version does not exist.
        """
        spec = self.parse(definition)
        if spec.deployment is not None:
            self.client.deployments.get(spec.deployment)
        from modelward.monitoring.evaluate import WindowEvaluator

        reference = self.resolver.resolve(spec)
        WindowEvaluator(spec, reference, dataset_windows=spec.window.type == "dataset")
        if spec.window.type == "dataset" and spec.window.dataset is not None:
            self.client.datasets.get(spec.window.dataset)
        monitor = spec.to_monitor()
        if replace:
            try:
                self.store.get_monitor(spec.name)
            except NotFound:
                return self.store.create_monitor(monitor)
            return self.store.update_monitor(monitor)
        return self.store.create_monitor(monitor)

    def get(self, name: str) -> Monitor:
        """Return a monitor; :class:`~modelward.errors.NotFound` if absent."""
        return self.store.get_monitor(name)

    def spec(self, name: str) -> MonitorSpec:
        """Return a monitor's validated definition."""
        return MonitorSpec.from_monitor(self.store.get_monitor(name))

    def list(self) -> builtins.list[Monitor]:
        """Every monitor, by name."""
        return self.store.list_monitors()

    def delete(self, name: str) -> None:
        """Delete a monitor with its results, alerts and notification records."""
        self.store.delete_monitor(name)

    # -- running ---------------------------------------------------------------------------------
    def run(self, name: str, *, now: int | None = None) -> RunResult:
        """Run a monitor once: evaluate its due windows and apply late labels.

        Raises:
            NotFound: No such monitor (or its deployment or reference is gone).
            InvalidInput: Its reference cannot be resolved any more.
        """
        monitor = self.store.get_monitor(name)
        spec = MonitorSpec.from_monitor(monitor)
        return self.runner.run(monitor, spec, now=now)

    def run_due(self, *, now: int | None = None) -> builtins.list[RunResult]:
        """Run every monitor whose schedule says it is due; one failing does not stop the others."""
        from modelward.monitoring.runner import RunResult

        current = self.clock() if now is None else now
        out = []
        for monitor in self.store.list_monitors():
            if not _due(monitor, now_ms()):
                continue
            try:
                out.append(self.run(monitor.name, now=current))
            except ModelwardError as exc:
                log.error("monitor %s failed: %s", monitor.name, exc)
                # Count the attempt as a run so a broken monitor is retried on its schedule,
                # not in a tight loop.
                self.store.set_monitor_state(monitor.name, monitor.state, last_run_at=now_ms())
                out.append(RunResult(monitor.name, message=f"failed: {exc}"))
        return out

    def watch(
        self,
        stop: threading.Event,
        *,
        poll: float = 1.0,
        max_cycles: int | None = None,
        on_result: Callable[[RunResult], None] | None = None,
    ) -> int:
        """Run monitors on their schedules until ``stop`` is set; return the cycles done.

        Each cycle runs the due monitors (each bounded by its ``max_windows``), then sleeps
        until the next monitor is due or ``poll`` seconds, whichever is sooner; setting
        ``stop`` ends the sleep at once, and a cycle in progress finishes its current monitor.
        """
        cycles = 0
        while not stop.is_set():
            for result in self.run_due():
                if on_result is not None:
                    on_result(result)
                if stop.is_set():
                    break
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                break
            stop.wait(self._sleep_time(poll))
        self.dispatcher.flush(10.0)
        return cycles

    def _sleep_time(self, poll: float) -> float:
        now = now_ms()
        waits = [
            ((m.last_run_at or 0) + m.schedule * 1000 - now) / 1000
            for m in self.store.list_monitors()
        ]
        return float(max(0.0, min([poll, *waits])))

    # -- reading ---------------------------------------------------------------------------------
    def results(
        self,
        name: str,
        *,
        keys: Sequence[str] | None = None,
        prefix: str | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
    ) -> builtins.list[MonitorResult]:
        """Stored results, oldest window first (see :meth:`MetadataStore.list_monitor_results`)."""
        self.store.get_monitor(name)
        return self.store.list_monitor_results(
            name, keys=keys, prefix=prefix, start=start, end=end, limit=limit
        )

    def series(
        self, name: str, key: str, *, start: int | None = None, end: int | None = None
    ) -> builtins.list[MonitorResult]:
        """One metric over time."""
        return self.results(name, keys=[key], start=start, end=end)

    def anomalies(self, name: str, key: str, **params: Any) -> AnomalyResult:
        """Score a whole stored series with the monitor's anomaly detector (for charts).

        A robust z-score against a trailing window of ``history`` points (the detector's
        parameters can be overridden).
        """
        from modelward.monitoring.anomaly import EWMADetector, RobustZScoreDetector

        check = self.spec(name).checks.anomaly
        values = [p.value if p.value is not None else float("nan") for p in self.series(name, key)]
        settings = {**check.params, **params}
        detector: Any
        if check.method == "ewma":
            detector = EWMADetector(**settings).fit([])
        else:
            settings.setdefault("window", check.history)
            settings.setdefault("min_periods", check.min_history)
            detector = RobustZScoreDetector(**settings).fit([])
        return detector.score(values)  # type: ignore[no-any-return]

    # -- reports -----------------------------------------------------------------------------------
    def report(
        self, name: str, *, window: str | None = None, now: int | None = None
    ) -> dict[str, Any]:
        """The report of one window as JSON-ready data (see :mod:`modelward.monitoring.report`).

        Args:
            name: Monitor name.
            window: ``last:1h``, ``START/END``, ``rows:N`` or ``dataset:NAME@N``; default: the
                latest evaluated window (or the current window size up to now).
            now: Reference time for ``last:``.
        """
        from modelward.monitoring.report import build_report

        monitor = self.store.get_monitor(name)
        spec = MonitorSpec.from_monitor(monitor)
        evaluator, reference = self.runner.evaluator(spec, monitor)
        win, table = self._report_window(spec, window, self.clock() if now is None else now)
        evaluation = evaluator.evaluate(win, table, labelled="label" in table.column_names)
        from modelward.monitoring.report import FIXED_SERIES

        history = [
            *self.store.list_monitor_results(
                name, keys=list(FIXED_SERIES), end=win.start + 1, limit=_HISTORY_POINTS
            ),
            *self.store.list_monitor_results(
                name, prefix="performance.", end=win.start + 1, limit=_HISTORY_POINTS
            ),
            *self.store.list_monitor_results(
                name, prefix="anomaly.", end=win.start + 1, limit=_HISTORY_POINTS
            ),
        ]
        alerts = self.store.list_alerts(
            monitor=name, status=[AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED]
        )
        return build_report(spec, evaluation, reference, history, alerts)

    def _report_window(self, spec: MonitorSpec, text: str | None, now: int) -> tuple[Any, Any]:
        from modelward.monitoring.windows import Window, last_rows, parse_window, time_label

        if text is None:
            if spec.window.type == "dataset":
                text = f"dataset:{spec.window.dataset}"
            else:
                latest = self.store.list_monitor_results(spec.name, keys=["window.rows"], limit=1)
                if latest:
                    text = f"{latest[0].window_start}/{latest[0].window_end}"
                elif spec.window.type == "rows":
                    text = f"rows:{int(spec.window.size)}"
                else:
                    text = f"last:{int(spec.window.size)}s"
        request = parse_window(text, now)
        if request.kind == "dataset":
            assert request.dataset is not None
            version = self.client.datasets.get(request.dataset)
            win = Window(version.created_at, version.created_at + 1, "dataset", str(version.ref))
            return win, self.client.datasets.load_arrow(version)
        if spec.deployment is None:
            raise InvalidInput(
                f"monitor {spec.name!r} watches no deployment; report a dataset window "
                "(--window dataset:NAME@N)"
            )
        if request.kind == "rows":
            assert request.rows is not None
            table = self.runner.read_log(spec, None, None)
            return last_rows(table, request.rows)
        assert request.start is not None
        assert request.end is not None
        table = self.runner.read_log(spec, request.start, request.end)
        return Window(
            request.start, request.end, "explicit", time_label(request.start, request.end)
        ), table

    def report_html(self, name: str, *, window: str | None = None) -> str:
        """The report as one self-contained HTML document."""
        from modelward.monitoring.report import render_html

        return render_html(self.report(name, window=window))

    def write_report(self, name: str, output: str | Path, *, window: str | None = None) -> Path:
        """Write the report to ``output``: HTML, or JSON when it ends in ``.json``."""
        import json

        path = Path(output).expanduser()
        data = self.report(name, window=window)
        if path.suffix.lower() == ".json":
            text = json.dumps(data, indent=2, allow_nan=False, default=str)
        else:
            from modelward.monitoring.report import render_html

            text = render_html(data)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise InvalidInput(f"cannot write the report to {path}: {exc.strerror}") from None
        return path

    # -- alerts ------------------------------------------------------------------------------------
    def alerts(
        self,
        *,
        monitor: str | None = None,
        status: Sequence[AlertStatus | str] | None = None,
        limit: int = 100,
    ) -> builtins.list[Alert]:
        """Alerts, newest first."""
        from modelward.monitoring.alerts import check_status_filter

        statuses = check_status_filter([str(s) for s in status] if status else None)
        return self.store.list_alerts(monitor=monitor, status=statuses, limit=limit)

    def get_alert(self, alert_id: int) -> Alert:
        """One alert."""
        return self.store.get_alert(alert_id)

    def acknowledge(self, alert_id: int, *, by: str | None = None) -> Alert:
        """Acknowledge an open alert (no more notifications for it; it still auto-resolves)."""
        return self.alert_manager.acknowledge(alert_id, by or self.client.actor)

    def resolve(self, alert_id: int, *, by: str | None = None) -> Alert:
        """Resolve an alert by hand."""
        return self.alert_manager.resolve(alert_id, by or self.client.actor)

    def notifications(
        self, *, alert_id: int | None = None, monitor: str | None = None, limit: int = 100
    ) -> builtins.list[Notification]:
        """Notification records (delivery attempts and outcome), newest first."""
        return self.store.list_notifications(alert_id=alert_id, monitor=monitor, limit=limit)

    # -- lifecycle ---------------------------------------------------------------------------------
    def flush(self, timeout: float = 30.0) -> bool:
        """Wait (bounded) until queued notifications are delivered or failed."""
        return self.dispatcher.flush(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Deliver queued notifications (bounded by ``timeout``) and stop the delivery thread."""
        self.dispatcher.close(timeout)


#: Stored results read per group of charted keys for a report.
_HISTORY_POINTS = 5_000


def _due(monitor: Monitor, now: int) -> bool:
    if monitor.last_run_at is None:
        return True
    return monitor.last_run_at + monitor.schedule * 1000 <= now
