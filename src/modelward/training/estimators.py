"""Candidate estimators: import them by path, check their params, build them seeded.

Checks happen before any trial runs, so a typo fails in a second with the estimator's own
message: an unknown class path, a param the estimator does not take (scikit-learn's
``set_params`` message), or a value it refuses (its parameter constraints, checked for every
listed value and both ends of every range).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from modelward.errors import InvalidInput, NotFound
from modelward.training.spec import CandidateSpec, Range

__all__ = ["build_estimator", "check_candidate", "import_estimator", "is_classifier_class"]


def import_estimator(path: str, where: str = "estimator") -> type:
    """Import ``package.module.ClassName`` and check it is an estimator class.

    Raises:
        NotFound: The module or class does not exist (the message names which).
        InvalidInput: It is not a class with ``fit``/``get_params``.
    """
    module_name, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise NotFound(
            f"{where}: cannot import module {module_name!r} for {path!r} ({exc}); check the "
            "spelling or install the package that provides it",
            details={"estimator": path},
        ) from exc
    cls = getattr(module, name, None)
    if cls is None:
        raise NotFound(
            f"{where}: module {module_name!r} has no {name!r}; check the class name in {path!r}",
            details={"estimator": path},
        )
    if not isinstance(cls, type) or not (hasattr(cls, "fit") and hasattr(cls, "get_params")):
        raise InvalidInput(
            f"{where}: {path} is not a scikit-learn-style estimator class (it needs fit and "
            "get_params)",
            details={"estimator": path},
        )
    return cls


def is_classifier_class(cls: type) -> bool:
    """Whether instances of ``cls`` are classifiers (scikit-learn's own test)."""
    from sklearn.base import is_classifier, is_regressor

    try:
        instance = cls()
    except TypeError:
        return False
    return bool(is_classifier(instance)) and not bool(is_regressor(instance))


def _validate_one(cls: type, params: Mapping[str, Any], where: str) -> None:
    try:
        estimator = cls()
        estimator.set_params(**_tuples(params))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{where}: {exc}", details={"estimator": f"{cls.__module__}.{cls.__qualname__}"}
        ) from None
    validate = None
    if hasattr(estimator, "_parameter_constraints"):
        validate = estimator._validate_params  # scikit-learn's constraints (types and ranges)
    elif type(estimator).__module__.startswith("modelward."):
        validate = getattr(estimator, "_check_params", None)
    if callable(validate):
        try:
            validate()
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"{where}: {exc}",
                details={"estimator": f"{cls.__module__}.{cls.__qualname__}"},
            ) from None


def check_candidate(candidate: CandidateSpec, where: str) -> type:
    """Import the candidate's class and check every param name and value it will get.

    Raises:
        NotFound: The class cannot be imported.
        InvalidInput: A param is unknown or a value invalid, with the estimator's message.
    """
    cls = import_estimator(candidate.estimator, f"{where}.estimator")
    _validate_one(cls, candidate.params, f"{where}.params")
    for name, values in candidate.space.items():
        options: list[Any] = values if isinstance(values, list) else _range_ends(values)
        for value in options:
            _validate_one(cls, {**candidate.params, name: value}, f"{where}.space.{name}")
    return cls


def _range_ends(value: Range) -> list[Any]:
    if value.type == "int":
        return [int(value.low), int(value.high)]
    return [value.low, value.high]


def build_estimator(
    cls: type,
    params: Mapping[str, Any],
    *,
    seed: int,
) -> Any:
    """Instantiate ``cls`` with ``params``, seeding it when it can.

    ``random_state`` (when the estimator takes one and the spec does not set it) becomes the
    spec's seed. ``n_jobs`` is left alone (some estimators deprecate it); the trial's thread
    pools are capped at its CPU count instead (see :mod:`modelward.training.trial`).
    """
    estimator = cls()
    accepted = estimator.get_params(deep=False)
    final = dict(params)
    if "random_state" in accepted and "random_state" not in final:
        final["random_state"] = seed
    estimator.set_params(**_tuples(final))
    return estimator


def _tuples(params: Mapping[str, Any]) -> dict[str, Any]:
    # YAML has no tuples; estimators expecting e.g. hidden_layer_sizes accept lists too, but
    # sklearn's own MLP rejects lists in its constraints, so lists of ints become tuples.
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, list) and all(isinstance(v, int) for v in value):
            out[key] = tuple(value)
        else:
            out[key] = value
    return out
