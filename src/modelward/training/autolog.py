"""Autologging for people who train in their own scripts.

``mw.autolog()`` patches ``fit`` of every scikit-learn estimator class (pipelines and
``GridSearchCV``/``RandomizedSearchCV`` included, plus modelward's MLP) so that, with no other
change to the code, each outermost ``fit`` records in the active run (or a new run, ended after
``fit``): the estimator's params, training metrics, the fitted model with its signature, and a
digest of the input data. A search also records one nested run per candidate (its params and
cross-validation scores) and the best params and score. ``mw.autolog(disable=True)`` puts the
original methods back.

PyTorch loops have no ``fit`` to patch; :class:`TorchAutolog` (``mw.autolog_torch(model)``)
is a small hook object used as a context manager around the loop. Inside it, every
``loss.backward()`` and ``optimizer.step()`` is observed through torch's own hooks: the
optimizer's hyperparameters become params, the loss of each step the ``train_loss`` metric,
the batches fed to the model the input digest, and the model is logged (safetensors weights
and its class path, with a signature from the first batch) when the block ends.

Autologging never breaks the training code: a failure to record is logged as a warning.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["TorchAutolog", "autolog", "autolog_torch", "data_digest"]

log = logging.getLogger(__name__)

_SEARCHES = ("GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV")
_PARAM_VALUE_MAX = 500


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.patched: dict[type, Any] = {}
        self.depth = 0
        self.config: dict[str, Any] = {}


_state = _State()


def data_digest(*arrays: Any) -> str:
    """sha256 over the values, shapes and column names of ``arrays`` (DataFrames too)."""
    h = hashlib.sha256()
    for item in arrays:
        if item is None:
            continue
        if hasattr(item, "columns") and hasattr(item, "to_numpy"):
            import pandas as pd

            h.update(",".join(map(str, item.columns)).encode("utf-8"))
            h.update(pd.util.hash_pandas_object(item, index=False).to_numpy().tobytes())
            continue
        if hasattr(item, "to_numpy"):
            import pandas as pd

            h.update(pd.util.hash_pandas_object(item, index=False).to_numpy().tobytes())
            continue
        array = np.asarray(item)
        h.update(str(array.shape).encode("ascii"))
        if array.dtype == object:
            h.update(repr(array.tolist()).encode("utf-8"))
        else:
            h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


# -- scikit-learn ----------------------------------------------------------------------------
def _estimator_classes() -> list[type]:
    from sklearn.utils import all_estimators

    from modelward.training.torch_mlp import MLPClassifier, MLPRegressor

    classes = [cls for _, cls in all_estimators()]
    classes += [MLPClassifier, MLPRegressor]
    # Patch whichever class defines ``fit`` (GridSearchCV inherits BaseSearchCV's, for one).
    found: dict[type, None] = {}
    for cls in classes:
        for klass in cls.__mro__:
            if "fit" in klass.__dict__ and klass.__module__.startswith(("sklearn.", "modelward.")):
                found[klass] = None
    return list(found)


def autolog(
    disable: bool = False,
    *,
    log_models: bool = True,
    max_tuning_runs: int = 100,
    experiment: str | None = None,
) -> None:
    """Record scikit-learn ``fit`` calls (see the module docs); idempotent.

    Args:
        disable: Remove the patches (restore every original ``fit``).
        log_models: Log the fitted model (skops) with its signature.
        max_tuning_runs: Most nested runs a search records (best ranks first).
        experiment: Experiment of runs autolog starts (default: the current one).
    """
    with _state.lock:
        if disable:
            for cls, original in _state.patched.items():
                setattr(cls, "fit", original)  # noqa: B010 - classes typed as plain type
            _state.patched.clear()
            return
        _state.config = {
            "log_models": log_models,
            "max_tuning_runs": max_tuning_runs,
            "experiment": experiment,
        }
        for cls in _estimator_classes():
            if cls in _state.patched:
                continue
            original = cls.__dict__["fit"]
            _state.patched[cls] = original
            setattr(cls, "fit", _patched(original))  # noqa: B010


def _patched(original: Any) -> Any:
    import functools

    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _state.lock:
            outer = _state.depth == 0
            _state.depth += 1
        try:
            if not outer:
                return original(self, *args, **kwargs)
            return _logged_fit(original, self, args, kwargs)
        finally:
            with _state.lock:
                _state.depth -= 1

    fit.__modelward_autolog__ = True  # type: ignore[attr-defined]
    return fit


def _logged_fit(
    original: Any, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    import modelward.fluent as fl

    x = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    created = None
    try:
        if fl.active_run() is None:
            created = fl.start_run(experiment=_state.config.get("experiment"))
    except Exception as exc:
        log.warning("autolog could not start a run: %s", exc)
        return original(estimator, *args, **kwargs)
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException as exc:
        if created is not None:
            created.__exit__(type(exc), exc, exc.__traceback__)
        raise
    try:
        _record(estimator, x, y)
    except Exception as exc:  # recording must never break the user's training
        log.warning("autolog could not record %s: %s", type(estimator).__name__, exc)
    if created is not None:
        created.end()
    return result


def _params(estimator: Any) -> dict[str, str]:
    deep = hasattr(estimator, "steps") or type(estimator).__name__ in _SEARCHES
    out: dict[str, str] = {}
    for key, value in estimator.get_params(deep=deep).items():
        if hasattr(value, "get_params"):
            value = type(value).__name__
        text = str(value)
        out[key] = text if len(text) <= _PARAM_VALUE_MAX else text[: _PARAM_VALUE_MAX - 1] + "…"
    return out


def _record(estimator: Any, x: Any, y: Any) -> None:
    import modelward.fluent as fl

    run = fl.active_run()
    if run is None:
        return
    params = _params(estimator)
    params["estimator"] = f"{type(estimator).__module__}.{type(estimator).__qualname__}"
    fl.log_params(params)
    fl.set_tags(
        {
            "mw.autolog.input_digest": data_digest(x, y),
            "mw.autolog.input_rows": str(len(x)) if hasattr(x, "__len__") else "",
        }
    )
    model = estimator
    if type(estimator).__name__ in _SEARCHES:
        _record_search(estimator, run.id)
        model = getattr(estimator, "best_estimator_", None)
    if model is not None and y is not None:
        values = _training_metrics(model, x, y)
        if values:
            fl.log_metrics(values)
    curve = getattr(_final(model), "loss_curve_", None)
    if curve:
        for epoch, value in enumerate(curve):
            fl.log_metric("training_loss", float(value), step=epoch)
    if model is not None and _state.config.get("log_models", True):
        _log_model(model, x)


def _final(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _training_metrics(model: Any, x: Any, y: Any) -> dict[str, float]:
    import warnings

    from sklearn.base import is_classifier, is_regressor

    from modelward.training import metrics as mx

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        if is_classifier(model):
            predicted = model.predict(x)
            proba, decision = mx.scores(model, x)
            values = mx.evaluate(
                "classification",
                y,
                predicted,
                proba=proba,
                decision=decision,
                classes=list(getattr(model, "classes_", [])) or None,
            )
        elif is_regressor(model):
            values = mx.evaluate("regression", y, model.predict(x))
        else:
            return {}
    return {f"training_{k}": v for k, v in values.items()}


def _record_search(search: Any, parent_id: str) -> None:
    import modelward.fluent as fl

    results: Mapping[str, Any] = getattr(search, "cv_results_", {})
    candidates = list(results.get("params", []))
    if hasattr(search, "best_params_"):
        fl.log_params({f"best_{k}": v for k, v in search.best_params_.items()})
    if getattr(search, "best_score_", None) is not None:
        fl.log_metric("best_cv_score", float(search.best_score_))
    order = list(range(len(candidates)))
    ranks = results.get("rank_test_score")
    if ranks is not None:
        order.sort(key=lambda i: (int(ranks[i]), i))
    order = sorted(order[: int(_state.config.get("max_tuning_runs", 100))])
    tracking = fl.get_client().tracking
    experiment_id = fl.get_run(parent_id).experiment_id
    for i in order:
        child = tracking.start_run(
            experiment_id,
            name=f"candidate-{i}",
            parent_id=parent_id,
            tags={"mw.autolog.candidate": str(i)},
            system_metrics=False,
        )
        try:
            tracking.log_params(child.id, candidates[i])
            values: dict[str, float] = {}
            for key, column in results.items():
                if key.startswith(("mean_", "std_", "rank_")):
                    value = column[i]
                    if isinstance(value, int | float | np.number):
                        values[key] = float(value)
                elif key.startswith("split") and "_test_" in key:
                    fold = int(key[5 : key.index("_")])
                    name = "fold_" + key[key.index("_test_") + 1 :]
                    tracking.log_metric(child.id, name, float(column[i]), step=fold)
            tracking.log_metrics(child.id, values)
        finally:
            tracking.end_run(child.id)


def _log_model(model: Any, x: Any) -> None:
    import modelward as mw

    example = x[:5] if not hasattr(x, "iloc") else x.iloc[:5]
    try:
        mw.log_model(model, "model", input_example=example)
    except Exception as exc:
        log.warning("autolog could not log the %s model: %s", type(model).__name__, exc)


# -- PyTorch ----------------------------------------------------------------------------------
class TorchAutolog:
    """Record a PyTorch training loop (a hook object; use it as a context manager).

    Args:
        model: The ``nn.Module`` being trained (logged at the end, PyTorch flavor).
        name: Folder of the logged model in the run.
        log_model: Log the model when the block ends without an error.
        init_kwargs: The module's constructor arguments, when it does not state them itself
            (see the registry's PyTorch flavor).

    Example:
        >>> with mw.autolog_torch(net) as hook:
        ...     for epoch in range(10):
        ...         for xb, yb in loader:
        ...             opt.zero_grad(); loss_fn(net(xb), yb).backward(); opt.step()
        ...         hook.log_epoch(epoch, val_loss=evaluate(net))
    """

    def __init__(
        self,
        model: Any,
        *,
        name: str = "model",
        log_model: bool = True,
        init_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.log_model = log_model
        self.init_kwargs = dict(init_kwargs) if init_kwargs is not None else None
        self.step = 0
        self._losses: list[float] = []
        self._digest = hashlib.sha256()
        self._batches = 0
        self._example: Any = None
        self._handles: list[Any] = []
        self._optimizers: set[int] = set()
        self._backward: Any = None
        self._run: Any = None
        self._created = False

    def __enter__(self) -> TorchAutolog:
        import torch
        from torch.optim.optimizer import register_optimizer_step_post_hook

        import modelward.fluent as fl

        self._run = fl.active_run()
        if self._run is None:
            self._run = fl.start_run(experiment=_state.config.get("experiment"))
            self._created = True
        self._handles.append(register_optimizer_step_post_hook(self._after_step))
        self._handles.append(self.model.register_forward_pre_hook(self._before_forward))
        self._backward = torch.Tensor.backward
        original = self._backward
        hook = self

        def backward(tensor: Any, *args: Any, **kwargs: Any) -> Any:
            if tensor.numel() == 1:
                hook._losses.append(float(tensor.detach()))
            return original(tensor, *args, **kwargs)

        torch.Tensor.backward = backward  # type: ignore[method-assign,assignment]
        fl.log_params(
            {
                "model_class": f"{type(self.model).__module__}.{type(self.model).__qualname__}",
                "n_parameters": sum(int(p.numel()) for p in self.model.parameters()),
            },
            run_id=self._run.id,
        )
        return self

    def _before_forward(self, module: Any, inputs: tuple[Any, ...]) -> None:
        if not module.training or not inputs:
            return
        first = inputs[0]
        if not hasattr(first, "detach"):
            return
        array = first.detach().cpu().numpy()
        self._digest.update(str(array.shape).encode("ascii"))
        self._digest.update(np.ascontiguousarray(array).tobytes())
        self._batches += 1
        if self._example is None:
            self._example = array[:5].copy()

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        import modelward.fluent as fl

        try:
            if id(optimizer) not in self._optimizers:
                self._optimizers.add(id(optimizer))
                group = optimizer.param_groups[0]
                params = {"optimizer": type(optimizer).__name__}
                for key in ("lr", "weight_decay", "momentum", "betas", "eps", "nesterov"):
                    if key in group:
                        params[key] = group[key]
                fl.log_params(params, run_id=self._run.id)
            if self._losses:
                fl.log_metric(
                    "train_loss",
                    sum(self._losses) / len(self._losses),
                    step=self.step,
                    run_id=self._run.id,
                )
                self._losses.clear()
            self.step += 1
        except Exception as exc:
            log.warning("autolog could not record an optimizer step: %s", exc)

    def log_epoch(self, epoch: int, **values: float) -> None:
        """Record metrics of an epoch (e.g. ``val_loss``) at step ``epoch``."""
        import modelward.fluent as fl

        fl.log_metrics({k: float(v) for k, v in values.items()}, step=epoch, run_id=self._run.id)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import torch

        import modelward as mw
        import modelward.fluent as fl

        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if self._backward is not None:
            torch.Tensor.backward = self._backward  # type: ignore[method-assign]
            self._backward = None
        try:
            fl.set_tags(
                {
                    "mw.autolog.input_digest": self._digest.hexdigest(),
                    "mw.autolog.input_batches": str(self._batches),
                },
                run_id=self._run.id,
            )
            if exc_type is None and self.log_model:
                options: dict[str, Any] = {}
                if self.init_kwargs is not None:
                    options["init_kwargs"] = self.init_kwargs
                mw.log_model(
                    self.model,
                    self.name,
                    input_example=self._example,
                    run_id=self._run.id,
                    **options,
                )
        except Exception as log_exc:
            log.warning("autolog could not record the PyTorch model: %s", log_exc)
        if self._created and self._run is not None:
            self._run.__exit__(exc_type, exc, tb)


def autolog_torch(model: Any, **options: Any) -> TorchAutolog:
    """A :class:`TorchAutolog` hook for ``model`` (use it as ``with mw.autolog_torch(m):``)."""
    return TorchAutolog(model, **options)
