"""Find what a monitor compares with: the reference data, the task, the target and the baseline.

For a monitor of a deployment, the walk is::

    deployment -> the model version it serves -> the run that logged it
               -> the dataset version that run read with role "train" -> its stored profile

The run also gives the task (param ``task``), the target column (param ``target``) and the
held-out test metrics (``test_accuracy``, ``test_rmse``, ... as training logs them). When the
run recorded no dataset input, the model's manifest (which lists the run's datasets and
metrics at logging time) is used. An explicit ``reference: NAME@N`` wins over the walk; an
explicit ``task`` wins over the run's.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidInput, ModelwardError, NotFound

if TYPE_CHECKING:
    from modelward.monitoring.spec import MonitorSpec
    from modelward.profiling import DatasetProfile

__all__ = ["Reference", "ReferenceResolver", "prediction_reference"]

log = logging.getLogger(__name__)

#: Name of the prediction column in the prediction log.
PREDICTION = "prediction"


@dataclass(frozen=True)
class Reference:
    """What a monitor compares its windows with.

    Attributes:
        ref: The reference dataset version (``wine@2``).
        data: Its profile (or its table when it has no stored profile).
        columns: The reference's column names.
        source: How it was found (``explicit`` or ``training run <id>`` or ``model manifest``).
        model: Registered model name of the deployment's version.
        version: That version's number.
        run_id: The run that logged it.
        task: ``classification``, ``regression`` or ``None`` (unknown: inferred from labels).
        target: The reference's target column, if known.
        features: The model's input names (empty when the model has no column signature).
        baseline: Held-out test metrics by name (``accuracy``, ``rmse``, ...).
    """

    ref: str
    data: Any
    columns: tuple[str, ...]
    source: str
    model: str | None = None
    version: int | None = None
    run_id: str | None = None
    task: str | None = None
    target: str | None = None
    features: tuple[str, ...] = ()
    baseline: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (without the data)."""
        return {
            "ref": self.ref,
            "source": self.source,
            "model": self.model,
            "version": self.version,
            "run_id": self.run_id,
            "task": self.task,
            "target": self.target,
            "features": list(self.features),
            "baseline": dict(self.baseline),
        }


@dataclass(frozen=True)
class _ModelFacts:
    model: str | None = None
    version: int | None = None
    run_id: str | None = None
    features: tuple[str, ...] = ()
    train_ref: str | None = None
    source: str = ""
    task: str | None = None
    target: str | None = None
    baseline: dict[str, float] = field(default_factory=dict)


class ReferenceResolver:
    """Resolves references through a client's services, caching loaded profiles.

    Args:
        client: A :class:`~modelward.client.Client` (or an object with ``store``,
            ``deployments``, ``registry``, ``models`` and ``datasets``).
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self._profiles: dict[str, tuple[str, Any]] = {}

    def resolve(self, spec: MonitorSpec) -> Reference:
        """Resolve a monitor's reference.

        Raises:
            InvalidInput: No reference can be found (the message says what to set).
            NotFound: The deployment, model version or dataset version does not exist.
        """
        facts = self._model_facts(spec.deployment) if spec.deployment else _ModelFacts()
        if spec.reference is not None:
            ref, source = spec.reference, "explicit"
        elif facts.train_ref is not None:
            ref, source = facts.train_ref, facts.source
        else:
            where = (
                f"model {facts.model} version {facts.version}"
                if facts.model is not None
                else f"deployment {spec.deployment!r}"
            )
            raise InvalidInput(
                f"cannot find the training data of {where}: its run recorded no dataset with "
                f"role 'train'; set the reference in the monitor (reference: NAME@N)",
                details={"monitor": spec.name},
            )
        canonical, data = self._load(ref)
        columns = _column_names(data)
        target = spec.checks.drift.target or facts.target
        if target is not None and target not in columns:
            target = None
        features = tuple(f for f in facts.features if f in columns)
        return Reference(
            ref=canonical,
            data=data,
            columns=columns,
            source=source,
            model=facts.model,
            version=facts.version,
            run_id=facts.run_id,
            task=spec.task or facts.task,
            target=target,
            features=features,
            baseline=facts.baseline,
        )

    def load(self, ref: str) -> tuple[str, Any]:
        """A dataset version's canonical ref and its profile (or table without a profile)."""
        return self._load(ref)

    # -- internals -----------------------------------------------------------------------------
    def _model_facts(self, deployment_name: str) -> _ModelFacts:
        c = self.client
        deployment = c.deployments.get(deployment_name)
        version = deployment.current_version
        if version is None:
            version = c.deployments.resolve_target(deployment.target)
        mv = c.registry.get_version(deployment.target.model, version)
        manifest = None
        try:
            manifest, _ = c.models.read_manifest(mv.uri)
        except ModelwardError as exc:
            log.warning("cannot read the manifest of %s: %s", mv.uri, exc)
        features: tuple[str, ...] = ()
        signature = manifest.signature if manifest is not None else None
        if signature is not None and signature.kind.value == "columns":
            features = tuple(signature.input_names)
        params: Mapping[str, str] = {}
        metrics: Mapping[str, float] = dict(manifest.metrics) if manifest is not None else {}
        train_ref, source = None, ""
        if mv.run_id is not None:
            try:
                run = c.store.get_run(mv.run_id)
                params = run.params
                metrics = {**metrics, **run.metrics}
            except NotFound:
                log.warning("the run %s of %s no longer exists", mv.run_id, mv.uri)
            train_ref = self._train_input(mv.run_id)
            source = f"training run {mv.run_id}"
        if train_ref is None and manifest is not None:
            for entry in manifest.datasets:
                if entry.get("role") == "train" and entry.get("name") and entry.get("version"):
                    train_ref = f"{entry['name']}@{entry['version']}"
                    source = "model manifest"
                    break
        task = params.get("task")
        baseline = {
            k[len("test_") :]: float(v)
            for k, v in metrics.items()
            if k.startswith("test_") and isinstance(v, int | float)
        }
        return _ModelFacts(
            model=mv.name,
            version=mv.version,
            run_id=mv.run_id,
            features=features,
            train_ref=train_ref,
            source=source,
            task=task if task in ("classification", "regression") else None,
            target=params.get("target"),
            baseline=baseline,
        )

    def _train_input(self, run_id: str) -> str | None:
        datasets = getattr(self.client, "datasets", None)
        if datasets is None:
            return None
        try:
            inputs = datasets.run_inputs(run_id)
        except NotFound:
            return None
        for version, role in inputs:
            if role == "train":
                return str(version.ref)
        return None

    def _load(self, ref: str) -> tuple[str, Any]:
        from modelward.profiling import DatasetProfile

        datasets = self.client.datasets
        version = datasets.get(ref)
        cached = self._profiles.get(version.id)
        if cached is not None:
            return cached
        data: Any
        if version.profile:
            try:
                data = DatasetProfile.from_dict(version.profile)
            except InvalidInput as exc:
                log.warning("the profile of %s is unreadable (%s); loading its data", ref, exc)
                data = datasets.load_arrow(version)
        else:
            data = datasets.load_arrow(version)
        loaded = (str(version.ref), data)
        if len(self._profiles) > 32:  # a long-running watcher must not grow without bound
            self._profiles.clear()
        self._profiles[version.id] = loaded
        return loaded


def _column_names(data: Any) -> tuple[str, ...]:
    names = getattr(data, "names", None)
    if names is not None and not callable(names):
        return tuple(names)
    return tuple(data.column_names)


def prediction_reference(data: Any, target: str) -> Any:
    """The reference with its ``target`` column renamed ``prediction`` (for prediction drift).

    Predictions of a good model follow the target's distribution, so the training target is
    the reference for the model's outputs.
    """
    from modelward.profiling import DatasetProfile

    if isinstance(data, DatasetProfile):
        columns = tuple(
            dataclasses.replace(c, name=PREDICTION) if c.name == target else c
            for c in data.columns
            if c.name != PREDICTION
        )
        return dataclasses.replace(data, columns=columns)
    names = [PREDICTION if n == target else n for n in data.column_names if n != PREDICTION]
    kept = data.drop_columns([PREDICTION]) if PREDICTION in data.column_names else data
    return kept.rename_columns(names)


def profile_of(data: Any) -> DatasetProfile | None:
    """``data`` if it is a profile."""
    from modelward.profiling import DatasetProfile

    return data if isinstance(data, DatasetProfile) else None
