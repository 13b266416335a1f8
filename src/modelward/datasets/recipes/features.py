"""Compiling a recipe's feature steps to an unfitted scikit-learn ``ColumnTransformer``.

Each column goes through its steps in the order the recipe lists them (typically ``impute``
then ``scale`` or ``encode``). Columns with the same chain of steps share one ``Pipeline``.
The result is unfitted: training fits it on the training split only (no statistic of the
validation or test rows leaks into the features) and saves it inside the model, so serving
applies exactly the transform training learned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modelward.datasets.recipes.spec import FeatureSpec, FeatureStep, Recipe
from modelward.errors import InvalidInput

if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer

__all__ = ["compile_transforms"]


def _estimator(step: FeatureStep) -> Any:
    if step.kind == "scale":
        from sklearn.preprocessing import MinMaxScaler, StandardScaler

        return StandardScaler() if step.method == "standard" else MinMaxScaler()
    if step.kind == "encode":
        from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

        if step.method == "onehot":
            return OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    from sklearn.impute import SimpleImputer

    if step.method == "constant":
        return SimpleImputer(strategy="constant", fill_value=step.value)
    return SimpleImputer(strategy=step.method)


def compile_transforms(
    recipe: Recipe | FeatureSpec, columns: Sequence[str] | None = None
) -> ColumnTransformer:
    """Return the recipe's feature steps as an unfitted ``ColumnTransformer``.

    Args:
        recipe: A recipe (its ``features``) or a :class:`FeatureSpec`.
        columns: The columns of the data it will be fitted on; when given, every column a step
            names must be among them and the target is left out of ``remainder``.

    Raises:
        InvalidInput: The recipe has no feature steps, a column has two scalers/encoders, or a
            step names a column not in ``columns``.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    spec = recipe.features if isinstance(recipe, Recipe) else recipe
    if spec is None or not spec.steps:
        raise InvalidInput(
            "the recipe has no feature steps; add features: {steps: [scale: ..., encode: ...]}"
        )
    chains: dict[str, list[FeatureStep]] = {}
    for step in spec.steps:
        for column in step.columns:
            chain = chains.setdefault(column, [])
            if any(s.kind == step.kind for s in chain) or (
                step.kind in ("scale", "encode")
                and any(s.kind in ("scale", "encode") for s in chain)
            ):
                raise InvalidInput(
                    f"column {column!r} gets two {step.kind} steps; give each column at most one "
                    "impute and one scale or encode"
                )
            chain.append(step)
    if columns is not None:
        missing = sorted(set(chains) - set(columns))
        if missing:
            raise InvalidInput(
                f"feature steps name column(s) the data lacks: {', '.join(missing)}; its "
                f"columns are: {', '.join(columns)}"
            )
    groups: dict[tuple[tuple[str, str, str], ...], list[str]] = {}
    for column, chain in chains.items():
        key = tuple((s.kind, s.method, repr(s.value)) for s in chain)
        groups.setdefault(key, []).append(column)
    transformers = []
    for number, (key, group) in enumerate(groups.items(), 1):
        steps = [
            (f"{kind}_{method}", _estimator(FeatureStep(kind, tuple(group), method, _value(value))))
            for kind, method, value in key
        ]
        name = "_".join(kind for kind, _, _ in key) + f"_{number}"
        transformers.append((name, Pipeline(steps), list(group)))
    remainder: Any = spec.remainder
    if spec.target is not None and columns is not None and spec.remainder == "passthrough":
        others = [c for c in columns if c not in chains and c != spec.target]
        if others:
            transformers.append(("passthrough", "passthrough", others))
        remainder = "drop"
    return ColumnTransformer(transformers, remainder=remainder, verbose_feature_names_out=False)


def _value(text: str) -> Any:
    import ast

    return ast.literal_eval(text)
