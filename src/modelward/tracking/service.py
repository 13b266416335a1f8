"""The tracking service: experiments and runs over a metadata store, with buffered metrics.

This is the layer the SDK, CLI and server call. It owns one :class:`MetricBuffer` and one
background thread (the buffer's) that also heartbeats this process's running runs and samples
system metrics for them.
"""

from __future__ import annotations

import getpass
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelward.config import Settings
from modelward.entities import Experiment, Metric, Page, Run, RunStatus, now_ms
from modelward.errors import InvalidInput, NotFound
from modelward.store.metadata.base import MetadataStore
from modelward.store.metadata.tracking import MetricPoint
from modelward.tracking import liveness
from modelward.tracking.buffer import MetricBuffer
from modelward.validation import check_key

if TYPE_CHECKING:
    from modelward.tracking.environment import Environment

__all__ = ["DEFAULT_EXPERIMENT", "TrackingService"]

log = logging.getLogger(__name__)

#: Experiment used when a run names none.
DEFAULT_EXPERIMENT = "Default"


def _metric_value(key: str, value: Any) -> float:
    if isinstance(value, bool | str | bytes) or value is None:
        raise InvalidInput(
            f"metric {key!r} needs a number, not {type(value).__name__} ({value!r}); "
            "log text as a tag or artifact",
            details={"key": key},
        )
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"metric {key!r} needs a number, not {type(value).__name__}", details={"key": key}
        ) from exc


def _step_value(key: str, step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, int):
        try:
            import numpy as np

            if isinstance(step, np.integer):
                return int(step)
        except ImportError:  # pragma: no cover - numpy is a core dependency
            pass
        raise InvalidInput(
            f"step of metric {key!r} must be an integer, not {type(step).__name__} ({step!r})"
        )
    return step


class _LiveRun:
    """What this process tracks about a run it started."""

    __slots__ = ("id", "next_step", "sample_step", "system_metrics")

    def __init__(self, run_id: str, system_metrics: bool) -> None:
        self.id = run_id
        self.system_metrics = system_metrics
        self.sample_step = 0
        self.next_step: dict[str, int] = {}


class TrackingService:
    """Experiments, runs, params, tags and metrics.

    Args:
        store: The metadata store.
        settings: Flush interval, heartbeat, system-metric and environment options.
    """

    def __init__(self, store: MetadataStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._user = settings.user or _login_name()
        self._host = liveness.this_host()
        self._pid, self._pid_start = liveness.process_identity()
        self._buffer = MetricBuffer(
            store.log_metrics,
            interval=settings.metric_flush_interval,
            max_points=settings.metric_buffer_max,
            on_tick=self._tick,
        )
        self._live: dict[str, _LiveRun] = {}
        self._live_lock = threading.Lock()
        self._valid_keys: set[str] = set()
        self._experiment_ids: dict[str, str] = {}
        self._last_heartbeat = time.monotonic()
        self._last_sample = time.monotonic()
        self._sampler: Any = None
        # Environment capture runs once, in the background; runs started before it finishes
        # are linked when it does.
        self._env_lock = threading.Lock()
        self._env: Environment | None = None
        self._env_digest: str | None = None
        self._source_tags: dict[str, str] | None = None
        self._env_pending: list[str] = []
        self._env_thread: threading.Thread | None = None
        self._closed = False

    # -- experiments -----------------------------------------------------------------------
    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        """Create an experiment."""
        return self.store.create_experiment(name, tags)

    def get_experiment(self, name_or_id: str) -> Experiment:
        """Return an experiment by name, or by id when no experiment has that name."""
        try:
            return self.store.get_experiment_by_name(name_or_id)
        except NotFound:
            try:
                return self.store.get_experiment(name_or_id)
            except NotFound:
                raise NotFound(
                    f"experiment {name_or_id!r} does not exist; list them with: "
                    "modelward experiments list",
                    details={"experiment": name_or_id},
                ) from None

    def get_or_create_experiment(self, name: str) -> Experiment:
        """Return the experiment called ``name``, creating it if needed (race-safe)."""
        from modelward.errors import AlreadyExists

        try:
            return self.store.get_experiment_by_name(name)
        except NotFound:
            try:
                return self.store.create_experiment(name)
            except AlreadyExists:
                return self.store.get_experiment_by_name(name)

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        """Return all experiments, oldest first."""
        return self.store.list_experiments(include_deleted=include_deleted)

    def delete_experiment(self, name_or_id: str) -> None:
        """Soft-delete an experiment and its runs."""
        self.store.delete_experiment(self.get_experiment(name_or_id).id)

    # -- run life --------------------------------------------------------------------------
    def start_run(
        self,
        experiment: str | None = None,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_id: str | None = None,
        system_metrics: bool | None = None,
    ) -> Run:
        """Create a RUNNING run owned by this process (heartbeats, system metrics, environment).

        Args:
            experiment: Experiment name (created if missing) or id. Default: ``"Default"``.
            name: Run name; a readable one is generated when omitted.
            tags: Initial tags.
            parent_id: Parent run for a nested run.
            system_metrics: Sample ``system/…`` metrics (default: the settings' choice).
        """
        experiment_id = self._resolve_experiment(experiment)
        all_tags = {"mw.user": self._user}
        env_digest = None
        if self.settings.capture_environment:
            with self._env_lock:
                env_digest = self._env_digest
                if self._source_tags is not None:
                    all_tags.update(self._source_tags)
        all_tags.update(tags or {})
        try:
            run = self._create_run(experiment_id, name, all_tags, parent_id, env_digest)
        except NotFound as exc:
            if "experiment_id" not in exc.details:
                raise
            # The cached experiment was removed behind our back: resolve it again once.
            self._experiment_ids.clear()
            experiment_id = self._resolve_experiment(experiment)
            run = self._create_run(experiment_id, name, all_tags, parent_id, env_digest)
        sample = self.settings.system_metrics if system_metrics is None else system_metrics
        with self._live_lock:
            self._live[run.id] = _LiveRun(run.id, sample)
        # Heartbeats and system samples ride on the flusher's ticks: start it even if the run
        # never logs a metric, or a quiet run would look dead to other hosts.
        self._buffer.start()
        if self.settings.capture_environment and env_digest is None:
            self._capture_environment_later(run.id)
        return run

    def resume_run(self, run_id: str, *, system_metrics: bool | None = None) -> Run:
        """Make an ended run RUNNING again, owned by this process (heartbeats resume).

        Used to continue interrupted work under the same run (e.g. a resumed search).
        """
        run = self.store.reopen_run(
            run_id, host=self._host, pid=self._pid, pid_start=self._pid_start, at=now_ms()
        )
        sample = self.settings.system_metrics if system_metrics is None else system_metrics
        with self._live_lock:
            self._live[run.id] = _LiveRun(run.id, sample)
        return run

    def _create_run(
        self,
        experiment_id: str,
        name: str | None,
        tags: dict[str, str],
        parent_id: str | None,
        env_digest: str | None,
    ) -> Run:
        return self.store.create_run(
            experiment_id,
            name=name,
            tags=tags,
            parent_id=parent_id,
            user=self._user,
            host=self._host,
            pid=self._pid,
            pid_start=self._pid_start,
            environment_digest=env_digest,
        )

    def _resolve_experiment(self, experiment: str | None) -> str:
        """Return the id of the named (or id-given) experiment, creating it by name if needed."""
        name = DEFAULT_EXPERIMENT if experiment is None else experiment
        cached = self._experiment_ids.get(name)
        if cached is not None:
            return cached
        try:
            exp = self.store.get_experiment_by_name(name)
        except NotFound:
            try:
                exp = self.store.get_experiment(name)
            except NotFound:
                exp = self.get_or_create_experiment(name)
        self._experiment_ids[name] = exp.id
        return exp.id

    def end_run(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> RunStatus:
        """Flush queued metrics and give the run a terminal status, in one transaction."""
        try:
            final = RunStatus(status)
        except ValueError:
            raise InvalidInput(
                f"unknown run status {status!r}; use FINISHED, FAILED or KILLED"
            ) from None
        if not final.is_terminal:
            raise InvalidInput("end_run needs a terminal status: FINISHED, FAILED or KILLED")
        self._wait_for_environment(run_id)
        end_time = now_ms()
        self._buffer.flush_with(lambda points: self.store.end_run(run_id, final, end_time, points))
        with self._live_lock:
            self._live.pop(run_id, None)
        return final

    # -- logging ---------------------------------------------------------------------------
    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Queue one metric point (non-blocking; see :mod:`modelward.tracking.buffer`).

        Without ``step``, a key's points are numbered 0, 1, 2, … in this process (after an
        explicit step ``s`` the next automatic step is ``s + 1``).
        """
        if key not in self._valid_keys:
            check_key(key, "metric key")
            self._valid_keys.add(key)
        if type(value) is not float:
            value = _metric_value(key, value)
        live = self._live.get(run_id)
        if step is None:
            if live is None:
                step = 0
            else:
                step = live.next_step.get(key, 0)
                live.next_step[key] = step + 1
        else:
            if type(step) is not int:
                step = _step_value(key, step)
            if live is not None:
                live.next_step[key] = step + 1
        if timestamp is None:
            timestamp = time.time_ns() // 1_000_000
        self._buffer.append((run_id, key, value, step, timestamp))

    def log_metrics(
        self, run_id: str, values: Mapping[str, float], step: int | None = None
    ) -> None:
        """Queue several metrics sharing one step and timestamp."""
        timestamp = time.time_ns() // 1_000_000
        for key, value in values.items():
            self.log_metric(run_id, key, value, step, timestamp)

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Record params (values are stored as strings; a changed value is a Conflict)."""
        self.store.log_params(run_id, {k: _param_str(v) for k, v in params.items()})

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Set tags (values are stored as strings)."""
        self.store.set_tags(run_id, {k: str(v) for k, v in tags.items()})

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run."""
        self.store.delete_tag(run_id, key)

    def flush(self) -> None:
        """Make every queued metric point durable (raises if the store refuses them)."""
        self._buffer.flush()

    # -- reading ---------------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run:
        """Return a run; a RUNNING run whose process died is marked KILLED first."""
        if len(self._buffer):
            # Read your own writes, whichever run the queued points belong to.
            self.flush()
        run = self.store.get_run(run_id)
        if (
            run.status is RunStatus.RUNNING
            and run_id not in self._live
            and self.reconcile(only=[run])
        ):
            run = self.store.get_run(run_id)
        return run

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, ordered by step (pending points flushed first)."""
        if len(self._buffer):
            self.flush()
        return self.store.get_metric_history(run_id, key)

    def search_runs(
        self,
        experiments: Sequence[str] | str | None = None,
        filter: str = "",
        order_by: Sequence[str] | str = (),
        max_results: int = 100,
        page_token: str | None = None,
        *,
        include_deleted: bool = False,
    ) -> Page[Run]:
        """Search runs; see ``docs/search.md`` for the filter language.

        Args:
            experiments: Experiment names or ids (one or several); ``None`` searches all.
            filter: e.g. ``"metrics.acc > 0.8 and params.depth = '3'"``.
            order_by: e.g. ``["metrics.acc DESC"]``.
            max_results: Page size (1 to 50,000).
            page_token: ``next_token`` of the previous page.
            include_deleted: Include soft-deleted runs.
        """
        if isinstance(experiments, str):
            experiments = [experiments]
        if isinstance(order_by, str):
            order_by = [order_by]
        ids = [self.get_experiment(e).id for e in experiments or ()]
        if len(self._buffer):
            self.flush()
        self.reconcile()
        return self.store.search_runs(
            ids, filter, list(order_by), max_results, page_token, include_deleted=include_deleted
        )

    def reconcile(self, only: Sequence[Run] | None = None) -> list[str]:
        """Mark RUNNING runs whose process is gone as KILLED; return their ids."""
        running = self.store.list_running_runs()
        if only is not None:
            wanted = {r.id for r in only}
            running = [row for row in running if row[0] in wanted]
        with self._live_lock:
            mine = set(self._live)
        candidates = [r for r in running if r[0] not in mine]
        dead = liveness.dead_runs(
            candidates,
            host=self._host,
            now_ms=now_ms(),
            timeout_ms=int(self.settings.heartbeat_timeout * 1000),
        )
        if dead:
            self.store.mark_runs_killed(dead, now_ms())
            log.info("marked %d runs KILLED whose process is gone", len(dead))
        return dead

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run and its nested runs."""
        self.store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        """Restore a soft-deleted run and its nested runs."""
        self.store.restore_run(run_id)

    def live_run_ids(self) -> list[str]:
        """Ids of the runs this process started and has not ended."""
        with self._live_lock:
            return list(self._live)

    # -- background work -------------------------------------------------------------------
    def _tick(self) -> None:
        now = time.monotonic()
        with self._live_lock:
            live = list(self._live.values())
        if not live:
            return
        if now - self._last_heartbeat >= self.settings.heartbeat_interval:
            self._last_heartbeat = now
            self.store.heartbeat([r.id for r in live], now_ms())
        sampled = [r for r in live if r.system_metrics]
        if sampled and now - self._last_sample >= self.settings.system_metrics_interval:
            self._last_sample = now
            self._sample_system(sampled)

    def _sample_system(self, runs: Sequence[_LiveRun]) -> None:
        if self._sampler is None:
            from modelward.tracking.system_metrics import SystemSampler

            self._sampler = SystemSampler(self.settings.home)
            return  # the first call only primes the CPU counters
        values = self._sampler.sample()
        ts = now_ms()
        points: list[MetricPoint] = [
            (run.id, key, value, run.sample_step, ts)
            for run in runs
            for key, value in values.items()
        ]
        for run in runs:
            run.sample_step += 1
        self._buffer.extend(points)

    def _capture_environment_later(self, run_id: str) -> None:
        with self._env_lock:
            env, tags = self._env, self._source_tags
            if env is None or tags is None:
                self._env_pending.append(run_id)
                if self._env_thread is None:
                    self._env_thread = threading.Thread(
                        target=self._capture_environment, name="modelward-environment", daemon=True
                    )
                    self._env_thread.start()
                return
        # The capture finished after start_run looked for it: link the run now.
        self._link_environment(run_id, env, tags)

    def _link_environment(self, run_id: str, env: Environment, tags: dict[str, str]) -> None:
        try:
            self.store.set_run_environment(run_id, env.digest, env.data)
            # The user may have set some of these tags since the run started: keep theirs.
            self.store.set_tags(run_id, tags, overwrite=False)
        except Exception as exc:
            log.warning("could not link the environment to run %s: %s", run_id, exc)

    def _capture_environment(self) -> None:
        from modelward.tracking.environment import capture_environment, source_tags

        try:
            env = capture_environment()
            tags = source_tags()
            self.store.put_environment(env.digest, env.data)
        except Exception as exc:
            log.warning("could not record the run environment: %s", exc)
            with self._env_lock:
                self._env_pending.clear()
            return
        with self._env_lock:
            self._env = env
            self._env_digest = env.digest
            self._source_tags = tags
            pending, self._env_pending = self._env_pending, []
        for run_id in pending:
            self._link_environment(run_id, env, tags)

    def _wait_for_environment(self, run_id: str) -> None:
        thread = self._env_thread
        if thread is None or not thread.is_alive():
            return
        with self._env_lock:
            waiting = run_id in self._env_pending
        if waiting:
            thread.join(timeout=30)

    def close(self) -> None:
        """Flush metrics and stop background work (runs stay as they are)."""
        if self._closed:
            return
        self._closed = True
        thread = self._env_thread
        if thread is not None:
            thread.join(timeout=30)
        self._buffer.close()


def _param_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
