"""The tracking part of the metadata store contract: experiments, runs, params, metrics."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from modelward.entities import Experiment, Metric, Page, Run, RunStatus

__all__ = ["MetricPoint", "TrackingStore"]

#: One metric point on its way to the store: ``(run_id, key, value, step, timestamp_ms)``.
#: A plain tuple, because building it is on the hot path of ``log_metric``.
MetricPoint = tuple[str, str, float, int, int]


class TrackingStore(abc.ABC):
    """Experiments and runs. Every method is atomic: it either fully applies or raises."""

    # -- experiments -----------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        """Create an experiment; :class:`~modelward.errors.AlreadyExists` if the name is taken."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment by id; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment:
        """Return an experiment by name; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        """Return all experiments, oldest first."""

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs."""

    @abc.abstractmethod
    def set_experiment_tags(self, experiment_id: str, tags: Mapping[str, str]) -> None:
        """Set (or overwrite) tags on an experiment."""

    # -- runs ------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_id: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
        host: str | None = None,
        pid: int | None = None,
        pid_start: float | None = None,
        environment_digest: str | None = None,
    ) -> Run:
        """Create a RUNNING run and return it.

        ``environment_digest`` must name an environment already stored with
        :meth:`set_run_environment` (or :meth:`put_environment`).
        """

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """Return a run with its params, tags and latest metrics."""

    @abc.abstractmethod
    def set_run_status(self, run_id: str, status: RunStatus, end_time: int | None = None) -> Run:
        """Set a run's status; a terminal status records ``end_time`` (default: now)."""

    @abc.abstractmethod
    def end_run(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        points: Sequence[MetricPoint] = (),
    ) -> None:
        """Write the last metric points (of any runs) and end ``run_id``, in one transaction."""

    @abc.abstractmethod
    def heartbeat(self, run_ids: Sequence[str], at: int) -> None:
        """Record that the given running runs are alive at ``at`` (ms)."""

    @abc.abstractmethod
    def list_running_runs(
        self,
    ) -> list[tuple[str, str | None, int | None, float | None, int | None]]:
        """Return ``(run_id, host, pid, pid_start, heartbeat_at)`` for every RUNNING run."""

    @abc.abstractmethod
    def reopen_run(
        self, run_id: str, *, host: str | None, pid: int | None, pid_start: float | None, at: int
    ) -> Run:
        """Make an ended run RUNNING again, owned by the given process (resuming work)."""

    @abc.abstractmethod
    def mark_runs_killed(self, run_ids: Sequence[str], end_time: int) -> int:
        """Mark the given runs KILLED if they are still RUNNING; return how many changed."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (and its nested runs)."""

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None:
        """Undo :meth:`delete_run`."""

    @abc.abstractmethod
    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Record params; :class:`~modelward.errors.Conflict` if a key has another value."""

    @abc.abstractmethod
    def set_tags(self, run_id: str, tags: Mapping[str, str], *, overwrite: bool = True) -> None:
        """Set tags on a run; with ``overwrite=False``, keys the run already has keep their value.

        ``overwrite=False`` is atomic, so background bookkeeping (the git state recorded once
        environment capture finishes) never replaces a tag the user set meanwhile.
        """

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; :class:`~modelward.errors.NotFound` if it is not set."""

    @abc.abstractmethod
    def log_metrics(self, points: Sequence[MetricPoint]) -> None:
        """Append metric points, possibly for several runs, in one transaction."""

    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, ordered by step then timestamp."""

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
        *,
        include_deleted: bool = False,
    ) -> Page[Run]:
        """Return one page of runs matching a filter (see docs/search.md for the language)."""

    # -- environments ----------------------------------------------------------------------
    @abc.abstractmethod
    def set_run_environment(self, run_id: str, digest: str, data: Mapping[str, Any]) -> None:
        """Store an environment description once per digest and link the run to it."""

    @abc.abstractmethod
    def put_environment(self, digest: str, data: Mapping[str, Any]) -> None:
        """Store an environment description once per digest (no-op if already stored)."""

    @abc.abstractmethod
    def get_environment(self, digest: str) -> dict[str, Any]:
        """Return an environment description by digest."""
