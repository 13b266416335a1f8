"""The training spec: what to train on, which models to try, how to search and select.

The same object is written as YAML (``modelward train SPEC.yaml``) or built in Python
(``TrainingSpec(data=..., candidates=[...])``). Validation errors name the field path, e.g.
``candidates[1].space.C: the search space has no values``. Every field is described in
``docs/training.md``.

Example:
    >>> spec = TrainingSpec.model_validate({
    ...     "data": {"dataset": "wine@latest", "target": "target"},
    ...     "candidates": [{"estimator": "sklearn.linear_model.LogisticRegression",
    ...                     "space": {"C": [0.1, 1.0, 10.0]}}],
    ... })
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from modelward.errors import InvalidInput, NotFound

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "Budget",
    "CandidateSpec",
    "CrossValidation",
    "DataSpec",
    "FeatureSelection",
    "Range",
    "Resources",
    "SearchSettings",
    "SplitSpec",
    "TrainingSpec",
    "WarmStart",
    "load_spec",
    "parse_spec",
]

#: Metrics computed for classification (``log_loss`` is lower-is-better).
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
#: Metrics computed for regression (``r2`` is higher-is-better, the rest lower-is-better).
REGRESSION_METRICS = ("mse", "rmse", "mae", "r2")

Strategy = Literal["grid", "random", "tpe"]
Task = Literal["classification", "regression"]

_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Model):
    """A numeric range to search: ``{low: 0.001, high: 10, log: true}``.

    Attributes:
        low: Smallest value (inclusive).
        high: Largest value (inclusive).
        log: Sample on a log scale (``low`` must be positive).
        type: ``float`` (default) or ``int``.
        num: Points a grid search takes from the range (evenly spaced, or log-spaced).
    """

    low: float
    high: float
    log: bool = False
    type: Literal["float", "int"] = "float"
    num: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> Range:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, not {self.low}")
        if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an int range needs whole-number low and high")
        return self


SpaceValue = Annotated[list[Any] | Range, Field(union_mode="left_to_right")]


class SearchSettings(_Model):
    """How a candidate's space is searched.

    Attributes:
        strategy: ``grid`` (every combination), ``random`` (``trials`` samples) or ``tpe``
            (Optuna's Tree-structured Parzen Estimator, ``trials`` suggestions).
        trials: Samples for ``random`` and ``tpe``.
        batch_size: TPE suggestions made before their results are known (they run in
            parallel). The sequence depends on this number, never on the executor or its
            number of workers, so a spec and seed always give the same trials.
    """

    strategy: Strategy = "grid"
    trials: int = Field(default=10, ge=1)
    batch_size: int = Field(default=4, ge=1)


class CandidateSpec(_Model):
    """One model family to try.

    Attributes:
        name: Short name used in run names and the leaderboard (default: the class name).
        estimator: Import path of a scikit-learn-style estimator class, e.g.
            ``sklearn.linear_model.LogisticRegression`` or
            ``modelward.training.torch_mlp.MLPClassifier``.
        params: Fixed constructor arguments.
        space: Searched constructor arguments: a list of values, or a :class:`Range`.
        search: Overrides the spec-wide :class:`SearchSettings` for this candidate.
    """

    name: str | None = Field(default=None, min_length=1, max_length=60)
    estimator: str
    params: dict[str, Any] = Field(default_factory=dict)
    space: dict[str, SpaceValue] = Field(default_factory=dict)
    search: SearchSettings | None = None

    @field_validator("estimator")
    @classmethod
    def _import_path(cls, value: str) -> str:
        if not _IMPORT_PATH.match(value):
            raise ValueError(
                f"{value!r} is not an import path; write it as package.module.ClassName"
            )
        return value

    @field_validator("space")
    @classmethod
    def _non_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, values in value.items():
            if isinstance(values, list) and not values:
                raise ValueError(f"the search space of {key!r} has no values; give at least one")
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> CandidateSpec:
        both = sorted(set(self.params) & set(self.space))
        if both:
            raise ValueError(f"{both} appear in both params and space; keep each in one")
        return self

    @property
    def label(self) -> str:
        """The candidate's display name."""
        return self.name or self.estimator.rsplit(".", 1)[-1]


class SplitSpec(_Model):
    """How the held-out test rows are chosen; the split is recorded with the dataset version.

    Attributes:
        test_size: Fraction of rows held out for the final evaluation.
        stratify: Keep class proportions (classification only; default: yes for
            classification).
        name: Use this split already recorded with the version (its train and validation
            rows train, its test rows evaluate) instead of recording one from the fields
            above.
    """

    test_size: float = Field(default=0.2, gt=0, lt=1)
    stratify: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=128)


class DataSpec(_Model):
    """The data: a dataset version, a target, a task and how to prepare features.

    Attributes:
        dataset: ``NAME@VERSION`` (``wine@2``, ``wine@latest``).
        target: The column to predict.
        features: Columns to use (default: every other column).
        task: ``classification`` or ``regression`` (inferred from the target when omitted).
        split: The held-out test split.
        preparation: ``auto`` (impute, scale numbers, one-hot categories), ``none``, or a
            recipe for the datasets service's ``compile_transforms``.
    """

    dataset: str
    target: str = Field(min_length=1)
    features: list[str] | None = None
    task: Task | None = None
    split: SplitSpec = Field(default_factory=SplitSpec)
    preparation: Literal["auto", "none"] | dict[str, Any] | list[Any] = "auto"

    @field_validator("dataset")
    @classmethod
    def _ref(cls, value: str) -> str:
        name, sep, version = value.partition("@")
        if not name or (sep and not version):
            raise ValueError(f"{value!r} is not a dataset reference; write NAME@VERSION")
        return value if sep else f"{value}@latest"

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("features is empty; omit it to use every column but the target")
        return value


class FeatureSelection(_Model):
    """Keep the most informative features (mutual information with the target).

    Attributes:
        method: ``mutual_info`` (information gain).
        k: Keep the ``k`` best features.
        threshold: Keep features whose mutual information is at least this (nats).
    """

    method: Literal["mutual_info"] = "mutual_info"
    k: int | None = Field(default=None, ge=1)
    threshold: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one(self) -> FeatureSelection:
        if (self.k is None) == (self.threshold is None):
            raise ValueError("give exactly one of k (top-k) or threshold")
        return self


class CrossValidation(_Model):
    """K-fold cross-validation (stratified for classification).

    Attributes:
        folds: Number of folds (at least 2).
        shuffle: Shuffle rows before splitting (with the spec's seed).
    """

    folds: int = Field(default=5, ge=2, le=100)
    shuffle: bool = True


class Budget(_Model):
    """Limits on the search.

    Attributes:
        max_trials: Most trials in total (over all candidates).
        max_time: Most wall time of the search, in seconds; trials running when it passes
            finish, no new ones start.
    """

    max_trials: int | None = Field(default=None, ge=1)
    max_time: float | None = Field(default=None, gt=0)


class Resources(_Model):
    """What one trial needs; executors never run more trials than fit in the machine.

    Attributes:
        num_cpus: CPU cores per trial (also its BLAS/OpenMP thread count).
        num_gpus: GPUs per trial (fractions share a GPU).
        memory: Memory per trial, e.g. ``512MiB``, ``2GB`` (0: not checked).
    """

    num_cpus: float = Field(default=1, gt=0)
    num_gpus: float = Field(default=0, ge=0)
    memory: ByteSize = ByteSize(0)


class WarmStart(_Model):
    """Continue training a registered model on new data instead of searching.

    Attributes:
        from_model: ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``.
        epochs: ``partial_fit`` passes over the new data (SGD models, the MLP).
        extra_estimators: Trees or boosting iterations added to ensembles with
            ``warm_start``.
    """

    from_model: str | None = None
    epochs: int = Field(default=5, ge=1)
    extra_estimators: int = Field(default=50, ge=1)


class TrainingSpec(_Model):
    """A whole training job. See ``docs/training.md`` for every field.

    Attributes:
        name: Name of the parent run (default ``train-<dataset>``).
        experiment: Experiment holding the runs.
        seed: Seeds splits, folds, samplers and estimators: the same spec and seed give the
            same winner on every executor.
        data: Dataset, target, task, split, preparation.
        feature_selection: Optional mutual-information feature selection.
        candidates: Models to try, each with its search space.
        search: Default search settings of the candidates.
        cv: Cross-validation.
        metric: The metric the winner is selected on (mean over folds).
        average: Averaging of precision/recall/F1 for more than two classes.
        budget: Trial and wall-time limits.
        resources: CPU, GPU and memory per trial.
        warm_start: Continue a registered model instead of searching.
    """

    name: str | None = Field(default=None, min_length=1, max_length=200)
    experiment: str = Field(default="training", min_length=1)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    data: DataSpec
    feature_selection: FeatureSelection | None = None
    candidates: list[CandidateSpec] = Field(default_factory=list)
    search: SearchSettings = Field(default_factory=SearchSettings)
    cv: CrossValidation = Field(default_factory=CrossValidation)
    metric: str | None = None
    average: Literal["macro", "weighted", "micro"] = "macro"
    budget: Budget = Field(default_factory=Budget)
    resources: Resources = Field(default_factory=Resources)
    warm_start: WarmStart = Field(default_factory=WarmStart)

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str | None) -> str | None:
        known = CLASSIFICATION_METRICS + REGRESSION_METRICS
        if value is not None and value not in known:
            raise ValueError(f"unknown metric {value!r}; choose one of {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _candidates(self) -> TrainingSpec:
        if not self.candidates and self.warm_start.from_model is None:
            raise ValueError("candidates is empty; list at least one model to train")
        labels = [c.label for c in self.candidates]
        duplicates = sorted({n for n in labels if labels.count(n) > 1})
        if duplicates:
            raise ValueError(f"candidate names {duplicates} repeat; give each a unique name")
        if self.metric is not None and self.data.task is not None:
            allowed = (
                CLASSIFICATION_METRICS
                if self.data.task == "classification"
                else (REGRESSION_METRICS)
            )
            if self.metric not in allowed:
                raise ValueError(
                    f"metric {self.metric!r} does not fit a {self.data.task} task; "
                    f"choose one of {', '.join(allowed)}"
                )
        return self

    def search_for(self, candidate: CandidateSpec) -> SearchSettings:
        """The search settings that apply to ``candidate``."""
        return candidate.search or self.search

    @property
    def run_name(self) -> str:
        """Name of the parent run."""
        return self.name or f"train-{self.data.dataset.partition('@')[0]}"

    def digest(self) -> str:
        """sha256 of the spec's canonical JSON (recorded on the parent run)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_yaml(self) -> str:
        """The spec as YAML (defaults included)."""
        import yaml

        return str(yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False))


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"list[any]", "Range"} or part.startswith(("function-", "literal[")):
            continue  # pydantic's union-branch labels say nothing to a person
        else:
            path += f".{part}" if path else str(part)
    return path or "spec"


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        branch = str(loc[-1]) if loc else ""
        value = err.get("input")
        # A search-space value is a list or a range: report the branch the input was meant for.
        if branch == "list[any]" and isinstance(value, dict):
            continue
        if "Range" in branch and isinstance(value, list):
            continue
        path = _field_path(loc)
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if branch == "list[any]" or "Range" in branch:
            message = (
                f"{message}; a search space is a list of values or a range "
                "{low, high[, log, type, num]}"
                if not isinstance(value, list | dict)
                else message
            )
        seen.setdefault(path, message)
    return list(seen.items())


def parse_spec(
    data: TrainingSpec | Mapping[str, Any],
    *,
    source: str = "spec",
    from_model: str | None = None,
) -> TrainingSpec:
    """Validate a spec given as a mapping (from YAML or code).

    Args:
        data: The spec (a validated one is returned as is, or with ``from_model`` set).
        source: Where it came from, for messages.
        from_model: Sets ``warm_start.from_model`` (a spec continuing a model needs no
            candidates).

    Raises:
        InvalidInput: Naming each wrong field by its path.
    """
    if isinstance(data, TrainingSpec):
        if from_model is None:
            return data
        data = data.model_dump()
    if not isinstance(data, Mapping):
        raise InvalidInput(
            f"{source}: a training spec is a mapping with data and candidates, "
            f"not {type(data).__name__}"
        )
    raw = dict(data)
    if from_model is not None:
        warm = raw.get("warm_start")
        raw["warm_start"] = {
            **(warm if isinstance(warm, Mapping) else {}),
            "from_model": from_model,
        }
    try:
        return TrainingSpec.model_validate(raw)
    except ValidationError as exc:
        problems = _errors(exc)
        text = "; ".join(f"{path}: {msg}" for path, msg in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InvalidInput(
            f"{source} is not a valid training spec: {text}{more}",
            details={"errors": [{"field": p, "message": m} for p, m in problems]},
        ) from None


def load_spec(path: str | Path, *, from_model: str | None = None) -> TrainingSpec:
    """Read and validate a YAML (or JSON) training spec file (see :func:`parse_spec`).

    Raises:
        NotFound: The file does not exist.
        InvalidInput: It is not YAML, or not a valid spec.
    """
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"training spec {str(file)!r} does not exist") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file} is not UTF-8 text: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{file} is not valid YAML: {exc}") from None
    return parse_spec(data if data is not None else {}, source=str(file), from_model=from_model)
