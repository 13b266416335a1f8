"""Continue training a fitted model on new data (the retraining path automation uses).

The model's fitted preparation and feature selection are kept as they are (the new rows must
land in the same feature space); only the final estimator learns more:

- ``partial_fit`` (SGD models, :mod:`modelward.training.torch_mlp`): ``epochs`` more passes
  over the new rows (for the MLP, further epochs from its current weights);
- ``warm_start`` ensembles (random forests, extra trees, gradient boosting): ``extra_estimators``
  more trees or boosting iterations fitted on the new rows beside the old ones;
- other ``warm_start`` estimators (logistic regression, …): refitted on the new rows starting
  from the current coefficients.
"""

from __future__ import annotations

from typing import Any

from modelward.errors import InvalidInput

__all__ = ["continue_training", "split_pipeline"]

_GROWING = ("n_estimators", "max_iter")


def split_pipeline(model: Any) -> tuple[Any, Any]:
    """``(fitted preparation or None, final estimator)`` of a pipeline or bare estimator."""
    steps = getattr(model, "steps", None)
    if steps:
        prep = model[:-1] if len(steps) > 1 else None
        return prep, steps[-1][1]
    return None, model


def continue_training(
    model: Any,
    x: Any,
    y: Any,
    *,
    epochs: int,
    extra_estimators: int,
    classes: list[Any] | None,
) -> dict[str, Any]:
    """Train ``model`` further on ``(x, y)`` in place; return what was done (for params).

    Raises:
        InvalidInput: The estimator can neither ``partial_fit`` nor ``warm_start``, or refuses
            the new data (its own message, e.g. an unseen class).
    """
    prep, final = split_pipeline(model)
    features = prep.transform(x) if prep is not None else x
    name = f"{type(final).__module__}.{type(final).__qualname__}"
    try:
        if hasattr(final, "partial_fit"):
            for _ in range(epochs):
                if classes is not None and not hasattr(final, "classes_"):
                    final.partial_fit(features, y, classes=classes)
                else:
                    final.partial_fit(features, y)
            return {"method": "partial_fit", "epochs": epochs}
        params = final.get_params(deep=False)
        if "warm_start" not in params:
            raise InvalidInput(
                f"cannot continue training a {name}: it has neither partial_fit nor "
                "warm_start. Train it anew (without --from)",
                details={"estimator": name},
            )
        changes: dict[str, Any] = {"warm_start": True}
        grown = next((p for p in _GROWING if p in params and _grows(final, p)), None)
        if grown is not None:
            changes[grown] = int(params[grown]) + extra_estimators
        final.set_params(**changes)
        final.fit(features, y)
        done: dict[str, Any] = {"method": "warm_start"}
        if grown is not None:
            done[grown] = changes[grown]
        return done
    except InvalidInput:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            f"{name} cannot continue on this data: {exc}", details={"estimator": name}
        ) from None


def _grows(estimator: Any, param: str) -> bool:
    """Whether raising ``param`` with warm_start adds members (trees, boosting stages)."""
    if param == "n_estimators":
        return hasattr(estimator, "estimators_")
    # HistGradientBoosting* adds iterations with max_iter; for linear models max_iter is a
    # solver limit, not a size.
    return hasattr(estimator, "n_iter_") and hasattr(estimator, "_predictors")
