"""The training data: a dataset version loaded, checked, split and described.

Reads through the datasets service (``client.datasets``): ``get(ref)`` resolves ``NAME@VERSION``
to a version, ``load(ref)`` returns its rows, and ``split`` records the train/test split with
the version (asking again with the same arguments returns the same rows), so the rows a model
was tested on can always be found again. Everything here fails before any trial starts, with a
message that says what to fix: an unknown dataset or column, a target with one class, too few
rows for the folds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from modelward.errors import InvalidInput, NotFound
from modelward.training.spec import DataSpec

__all__ = ["DatasetSource", "TrainingData", "infer_task", "load_training_data", "make_folds"]

log = logging.getLogger(__name__)

#: An integer target with at most this many distinct values is taken as class labels.
MAX_INFERRED_CLASSES = 20


class DatasetSource(Protocol):
    """What training needs from the datasets service.

    :class:`~modelward.datasets.service.DatasetService` (``client.datasets``) is the one
    implementation.
    """

    def get(self, ref: str) -> Any:
        """The dataset version ``NAME@VERSION`` (``NotFound`` when unknown)."""

    def load(self, ref: str, columns: Sequence[str] | None = None) -> Any:
        """The version's rows as a DataFrame."""

    def split(
        self,
        ref: str,
        *,
        train: float | None = None,
        validation: float | None = None,
        test: float | None = None,
        seed: int = 0,
        stratify: str | None = None,
        name: str | None = None,
    ) -> Any:
        """Record (or return the recorded) split; ``.train``/``.validation``/``.test`` rows."""

    def get_split(self, ref: str, split: str | int | None = None) -> Any:
        """A split recorded with the version."""


@dataclass
class TrainingData:
    """A loaded, split training set.

    Attributes:
        ref: The resolved reference, e.g. ``wine@2``.
        version: The dataset version object from the datasets service.
        target: Target column.
        features: Feature columns, in order.
        task: ``classification`` or ``regression``.
        classes: Class labels (classification), sorted.
        x_train: Training rows (features).
        y_train: Training target.
        x_test: Held-out rows.
        y_test: Held-out target.
        split: How the split was made (recorded as params); ``name`` is the split recorded
            with the version.
    """

    ref: str
    version: Any
    target: str
    features: list[str]
    task: str
    classes: list[Any] | None
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    split: dict[str, Any] = field(default_factory=dict)


def infer_task(target: Any) -> str:
    """Guess the task from the target column.

    Text, booleans, categories, and integers with at most 20 distinct values are class labels
    (``classification``); other numbers are ``regression``.
    """
    import pandas as pd

    dtype = target.dtype
    if (
        pd.api.types.is_bool_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
        or not pd.api.types.is_numeric_dtype(dtype)
    ):
        return "classification"
    if pd.api.types.is_integer_dtype(dtype) and target.nunique() <= MAX_INFERRED_CLASSES:
        return "classification"
    return "regression"


def _version_ref(version: Any, fallback: str) -> str:
    ref = getattr(version, "ref", None)
    if isinstance(ref, str):
        return ref
    name = getattr(version, "name", None)
    number = getattr(version, "version", None)
    if name is not None and number is not None:
        return f"{name}@{number}"
    return fallback


def _python_label(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def load_training_data(
    datasets: DatasetSource | None, spec: DataSpec, *, folds: int, seed: int
) -> TrainingData:
    """Load ``spec.dataset``, check the columns and target, split off the test rows.

    Raises:
        NotFound: The dataset, version or a column does not exist.
        InvalidInput: The target has one class, or too few rows for the folds.
    """
    if datasets is None:
        raise InvalidInput(
            "training needs the datasets service (client.datasets) to read "
            f"{spec.dataset!r}; it is not available in this installation"
        )
    version = datasets.get(spec.dataset)
    ref = _version_ref(version, spec.dataset)
    frame = datasets.load(ref)
    columns = [str(c) for c in frame.columns]
    if spec.target not in columns:
        raise NotFound(
            f"dataset {ref} has no column {spec.target!r} (data.target); its columns are "
            f"{', '.join(columns[:30])}{' …' if len(columns) > 30 else ''}",
            details={"dataset": ref, "column": spec.target},
        )
    features = list(spec.features) if spec.features else [c for c in columns if c != spec.target]
    missing = [c for c in features if c not in columns]
    if missing:
        raise NotFound(
            f"dataset {ref} has no column(s) {missing} (data.features); its columns are "
            f"{', '.join(columns[:30])}",
            details={"dataset": ref, "columns": missing},
        )
    if spec.target in features:
        raise InvalidInput(f"data.features lists the target {spec.target!r}; remove it")
    y_all = frame[spec.target]
    keep = y_all.notna().to_numpy()
    if not keep.any():
        raise InvalidInput(f"dataset {ref} has no rows with a value in {spec.target!r}")
    if not keep.all():
        log.warning(
            "leaving out %d rows whose target %r is missing", int((~keep).sum()), spec.target
        )
    task = spec.task or infer_task(y_all[keep])
    classes: list[Any] | None = None
    if task == "classification":
        values = sorted(y_all[keep].unique().tolist(), key=lambda v: (str(type(v)), v))
        if len(values) < 2:
            raise InvalidInput(
                f"the target {spec.target!r} of {ref} has only one class ({values[0]!r}); "
                "classification needs at least two. Check the target column or the data",
                details={"dataset": ref, "column": spec.target},
            )
        classes = [_python_label(v) for v in values]
    elif not np.issubdtype(np.asarray(y_all[keep]).dtype, np.number):
        raise InvalidInput(
            f"the target {spec.target!r} of {ref} is not numeric; regression needs numbers "
            "(set data.task: classification for labels)"
        )
    x = frame[features]
    # The split is over all the version's rows (as recorded); rows without a target drop out.
    train_rows, test_rows, split_info = _split(datasets, ref, spec, task, seed)
    train_rows, test_rows = train_rows[keep[train_rows]], test_rows[keep[test_rows]]
    data = TrainingData(
        ref=ref,
        version=version,
        target=spec.target,
        features=features,
        task=task,
        classes=classes,
        x_train=x.iloc[train_rows].reset_index(drop=True),
        y_train=y_all.iloc[train_rows].reset_index(drop=True),
        x_test=x.iloc[test_rows].reset_index(drop=True),
        y_test=y_all.iloc[test_rows].reset_index(drop=True),
        split=split_info,
    )
    _check_fold_sizes(data, folds)
    return data


def split_name(spec: DataSpec, stratify: bool, seed: int) -> str:
    """The name training records its split under: one per test size, seed and stratification."""
    name = f"holdout{spec.split.test_size:g}-seed{seed}"
    return f"{name}-by-{spec.target}" if stratify else name


def _split(
    datasets: Any, ref: str, spec: DataSpec, task: str, seed: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    stratify = (
        spec.split.stratify if spec.split.stratify is not None else (task == "classification")
    )
    info: dict[str, Any] = {"test_size": spec.split.test_size, "stratify": bool(stratify)}
    if spec.split.name is not None:
        indices = datasets.get_split(ref, spec.split.name)
        info.update({"name": spec.split.name, "source": "recorded"})
    else:
        name = split_name(spec, bool(stratify), seed)
        try:
            indices = datasets.split(
                ref,
                train=1.0 - spec.split.test_size,
                test=spec.split.test_size,
                seed=seed,
                stratify=spec.target if stratify else None,
                name=name,
            )
        except ValueError as exc:  # the split's own InvalidInput, or too few rows per class
            raise InvalidInput(
                f"cannot split {ref} into train and test ({exc}); lower data.split.test_size "
                "or set data.split.stratify: false"
            ) from None
        info.update({"name": name, "source": "made", "seed": seed})
    train = np.asarray(_part(indices, "train"), dtype=np.int64)
    validation = _part(indices, "validation")
    if validation is not None and len(validation):
        # Cross-validation makes its own validation folds: the validation rows train too.
        train = np.concatenate([train, np.asarray(validation, dtype=np.int64)])
    test = np.asarray(_part(indices, "test"), dtype=np.int64)
    if len(test) == 0 or len(train) == 0:
        raise InvalidInput(
            f"split {info['name']!r} of {ref} leaves {len(train)} training and {len(test)} test "
            "rows; both parts need rows"
        )
    return np.sort(train), np.sort(test), info


def _part(split: Any, name: str) -> Any:
    if isinstance(split, dict):
        return split.get(name)
    return getattr(split, name, None)


def _check_fold_sizes(data: TrainingData, folds: int) -> None:
    n = len(data.y_train)
    if n < folds:
        raise InvalidInput(
            f"{data.ref} leaves {n} training rows, fewer than cv.folds={folds}; lower the folds "
            "or data.split.test_size"
        )
    if data.task == "classification":
        counts = data.y_train.value_counts()
        smallest = int(counts.min())
        if smallest < folds:
            label = counts.idxmin()
            raise InvalidInput(
                f"class {label!r} of {data.target!r} has {smallest} training rows, fewer than "
                f"cv.folds={folds}; stratified folds need at least one per fold. Lower "
                "cv.folds or add data",
                details={"class": str(label), "rows": smallest},
            )


def make_folds(
    data: TrainingData, folds: int, shuffle: bool, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold row positions of the training rows (stratified for classification)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter: Any
    if data.task == "classification":
        splitter = StratifiedKFold(folds, shuffle=shuffle, random_state=seed if shuffle else None)
    else:
        splitter = KFold(folds, shuffle=shuffle, random_state=seed if shuffle else None)
    return [
        (np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
        for a, b in splitter.split(np.zeros(len(data.y_train)), data.y_train)
    ]
