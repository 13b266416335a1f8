"""The top-level SDK functions (``mw.start_run``, ``mw.log_metric``, …).

A thin convenience over one default :class:`~modelward.client.Client` and a stack of active
runs. The default client is built from the environment (``MODELWARD_HOME``,
``MODELWARD_URI``, …) on first use, or explicitly with :func:`connect`. The active-run stack is
shared by all threads of the process, so worker threads log to the run the main thread started.
"""

from __future__ import annotations

import atexit
import json
import logging
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from modelward.client import Client
from modelward.config import Settings
from modelward.entities import Experiment, Metric, Page, Run, RunStatus
from modelward.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from modelward.entities import ArtifactEntry, DatasetVersion

__all__ = [
    "ActiveRun",
    "active_run",
    "connect",
    "create_experiment",
    "download_artifacts",
    "end_run",
    "flush",
    "get_client",
    "get_experiment",
    "get_metric_history",
    "get_run",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "start_run",
]

log = logging.getLogger(__name__)

_lock = threading.RLock()
_client: Client | None = None
_stack: list[ActiveRun] = []
_experiment: str | None = None


class ActiveRun:
    """A run started by this process; a context manager that ends it.

    Leaving the ``with`` block normally ends the run FINISHED, through an exception FAILED, and
    through ``KeyboardInterrupt`` KILLED.

    Attributes:
        id: The run id.
        experiment_id: Its experiment.
        name: Its name.
    """

    def __init__(self, client: Client, run: Run) -> None:
        self._client = client
        self.id = run.id
        self.experiment_id = run.experiment_id
        self.name = run.name
        self.parent_id = run.parent_id
        self._status = run.status

    @property
    def status(self) -> RunStatus:
        """The run's status as this process knows it."""
        return self._status

    @property
    def info(self) -> Run:
        """A fresh snapshot of the run from the store (params, tags, latest metrics)."""
        return self._client.tracking.get_run(self.id)

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Queue a metric point for this run."""
        self._client.tracking.log_metric(self.id, key, value, step)

    def log_metrics(self, values: Mapping[str, float], step: int | None = None) -> None:
        """Queue several metric points for this run."""
        self._client.tracking.log_metrics(self.id, values, step)

    def log_param(self, key: str, value: Any) -> None:
        """Record one param of this run."""
        self._client.tracking.log_params(self.id, {key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record params of this run."""
        self._client.tracking.log_params(self.id, params)

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag on this run."""
        self._client.tracking.set_tags(self.id, {key: value})

    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """End the run (idempotent) and remove it from the active-run stack."""
        with _lock:
            if self in _stack:
                _stack.remove(self)
        if self._status.is_terminal:
            return
        self._status = self._client.tracking.end_run(self.id, status)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        self.end(status)

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, name={self.name!r}, status={self._status.value})"


# -- client --------------------------------------------------------------------------------
def connect(uri: str | None = None, *, artifacts: str | None = None, **settings: Any) -> Client:
    """Point the top-level functions at a store, and return the client.

    Args:
        uri: Metadata store URI (``sqlite:///PATH`` or ``postgresql+psycopg://…``).
        artifacts: Artifact location (folder or ``s3://BUCKET/PREFIX``).
        **settings: Other :class:`~modelward.config.Settings` fields, e.g.
            ``system_metrics=False``.

    Without arguments, settings come from the environment (``MODELWARD_HOME``, …).
    """
    global _client
    new = Client(uri, artifacts=artifacts, settings=Settings.from_env(**settings))
    with _lock:
        old, _client = _client, new
        _stack.clear()
    if old is not None:
        old.close()
    return new


def get_client() -> Client:
    """Return the default client, creating it from the environment on first use."""
    global _client
    client = _client
    if client is None:
        with _lock:
            if _client is None:
                _client = Client(settings=Settings.from_env())
            client = _client
    return client


def _current(run_id: str | None = None) -> str:
    if run_id is not None:
        return run_id
    try:
        return _stack[-1].id
    except IndexError:
        raise InvalidInput(
            "no active run; start one with `with mw.start_run():` or pass run_id="
        ) from None


# -- experiments ----------------------------------------------------------------------------
def set_experiment(name: str) -> Experiment:
    """Make ``name`` (created if missing) the experiment of runs started without one."""
    global _experiment
    experiment = get_client().tracking.get_or_create_experiment(name)
    _experiment = experiment.name
    return experiment


def create_experiment(name: str, tags: Mapping[str, str] | None = None) -> Experiment:
    """Create an experiment."""
    return get_client().tracking.create_experiment(name, tags)


def get_experiment(name_or_id: str) -> Experiment:
    """Return an experiment by name or id."""
    return get_client().tracking.get_experiment(name_or_id)


# -- runs -----------------------------------------------------------------------------------
def start_run(
    experiment: str | None = None,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
    *,
    nested: bool = False,
    parent_id: str | None = None,
    system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run and make it the active one.

    Args:
        experiment: Experiment name (created if missing) or id; default: the one given to
            :func:`set_experiment`, else ``"Default"``.
        name: Run name (generated when omitted).
        tags: Initial tags.
        nested: Start a child of the active run (required while a run is active).
        parent_id: Explicit parent run id (implies nesting).
        system_metrics: Sample ``system/…`` metrics (default from settings).

    Raises:
        Conflict: A run is already active and ``nested`` is false.
    """
    client = get_client()
    with _lock:
        if _stack and not nested and parent_id is None:
            raise Conflict(
                f"run {_stack[-1].id} is already active; end it first or pass nested=True"
            )
        if nested and parent_id is None and _stack:
            parent_id = _stack[-1].id
        if experiment is None:
            if parent_id is not None and _stack and _stack[-1].id == parent_id:
                experiment = _stack[-1].experiment_id
            else:
                experiment = _experiment
        run = client.tracking.start_run(
            experiment, name=name, tags=tags, parent_id=parent_id, system_metrics=system_metrics
        )
        active = ActiveRun(client, run)
        _stack.append(active)
    return active


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the innermost active run."""
    with _lock:
        if not _stack:
            return
        top = _stack[-1]
    top.end(status)


def active_run() -> ActiveRun | None:
    """Return the innermost active run, if any."""
    return _stack[-1] if _stack else None


# -- logging (hot path: keep these lean) ------------------------------------------------------
def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    *,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Queue a metric point for the active run (non-blocking; see :func:`flush`)."""
    client = _client or get_client()
    if run_id is None:
        if not _stack:
            _current()
        run_id = _stack[-1].id
    client.tracking.log_metric(run_id, key, value, step, timestamp)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, *, run_id: str | None = None
) -> None:
    """Queue several metric points for the active run."""
    get_client().tracking.log_metrics(_current(run_id), metrics, step)


def log_param(key: str, value: Any, *, run_id: str | None = None) -> None:
    """Record a param of the active run (immutable: another value later is a Conflict)."""
    get_client().tracking.log_params(_current(run_id), {key: value})


def log_params(params: Mapping[str, Any], *, run_id: str | None = None) -> None:
    """Record params of the active run."""
    get_client().tracking.log_params(_current(run_id), params)


def set_tag(key: str, value: Any, *, run_id: str | None = None) -> None:
    """Set a tag on the active run."""
    get_client().tracking.set_tags(_current(run_id), {key: value})


def set_tags(tags: Mapping[str, Any], *, run_id: str | None = None) -> None:
    """Set tags on the active run."""
    get_client().tracking.set_tags(_current(run_id), tags)


def flush() -> None:
    """Make every queued metric point durable now."""
    client = _client
    if client is not None:
        client.tracking.flush()


# -- artifacts --------------------------------------------------------------------------------
def _scope(run_id: str) -> str:
    return f"runs/{run_id}"


def log_artifact(
    local_path: str | Path, artifact_path: str | None = None, *, run_id: str | None = None
) -> ArtifactEntry:
    """Store a file as an artifact of the active run.

    Args:
        local_path: The file to store.
        artifact_path: Folder inside the run's artifacts (default: the top).
        run_id: Another run than the active one.
    """
    path = Path(local_path)
    target = f"{artifact_path.rstrip('/')}/{path.name}" if artifact_path else path.name
    return get_client().artifacts.log_file(_scope(_current(run_id)), path, target)


def log_artifacts(
    local_dir: str | Path, artifact_path: str | None = None, *, run_id: str | None = None
) -> list[ArtifactEntry]:
    """Store a folder (recursively) as artifacts of the active run."""
    return get_client().artifacts.log_dir(_scope(_current(run_id)), Path(local_dir), artifact_path)


def log_text(text: str, artifact_file: str, *, run_id: str | None = None) -> ArtifactEntry:
    """Store a string as a text artifact (UTF-8)."""
    return get_client().artifacts.log_bytes(
        _scope(_current(run_id)), text.encode("utf-8"), artifact_file
    )


def log_dict(
    obj: Mapping[str, Any] | Sequence[Any], artifact_file: str, *, run_id: str | None = None
) -> ArtifactEntry:
    """Store a JSON-serialisable object as a JSON artifact."""
    data = json.dumps(obj, indent=2, sort_keys=True, default=str).encode("utf-8")
    return get_client().artifacts.log_bytes(_scope(_current(run_id)), data, artifact_file)


def list_artifacts(run_id: str | None = None, path: str = "") -> list[ArtifactEntry]:
    """List a run's artifacts under ``path``."""
    return get_client().artifacts.list(_scope(_current(run_id)), path)


def download_artifacts(run_id: str, path: str = "", dest: str | Path | None = None) -> Path:
    """Download a run's artifact file or folder (verified) and return the local path."""
    target = Path(dest) if dest is not None else Path(tempfile.mkdtemp(prefix="modelward-"))
    return get_client().artifacts.download(_scope(run_id), path, target)


# -- datasets ---------------------------------------------------------------------------------
def log_input(
    dataset: DatasetVersion | str,
    role: str = "input",
    *,
    split: str | int | None = None,
    run_id: str | None = None,
) -> DatasetVersion:
    """Record that the active run read a dataset version.

    Args:
        dataset: A :class:`~modelward.entities.DatasetVersion` or a reference (``"wine@2"``).
        role: What the run used it for: ``train``, ``validation``, ``test``, ``input``, ...
        split: The version's recorded split the role refers to (name or seed), if any.
        run_id: Another run than the active one.

    Returns:
        The version recorded (references resolved, e.g. ``wine@latest`` -> ``wine@3``).
    """
    return get_client().datasets.log_input(_current(run_id), dataset, role, split=split)


# -- reading ----------------------------------------------------------------------------------
def get_run(run_id: str) -> Run:
    """Return a run: params, tags, latest metrics, status and times."""
    return get_client().tracking.get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Return every point of a metric, ordered by step."""
    return get_client().tracking.get_metric_history(run_id, key)


def search_runs(
    experiment: str | Sequence[str] | None = None,
    filter: str = "",
    order_by: Sequence[str] | str = (),
    max_results: int = 100,
    page_token: str | None = None,
    *,
    include_deleted: bool = False,
) -> Page[Run]:
    """Search runs (see ``docs/search.md``); returns a page with ``.items`` and ``.next_token``."""
    return get_client().tracking.search_runs(
        experiment, filter, order_by, max_results, page_token, include_deleted=include_deleted
    )


def _at_exit() -> None:
    client = _client
    if client is None:
        return
    try:
        for active in reversed(list(_stack)):
            active.end(RunStatus.FINISHED)
        client.close()
    except Exception as exc:  # never turn interpreter exit into a traceback
        log.warning("modelward could not finish cleanly at exit: %s", exc)


atexit.register(_at_exit)
