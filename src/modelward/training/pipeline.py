"""The model pipeline of a trial: preparation -> feature selection -> estimator.

Everything that learns from data sits inside one scikit-learn ``Pipeline``, so
cross-validation fits preparation and selection on each training fold only (no leakage) and
the fitted winner carries them: it takes the dataset's raw columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelward.errors import InvalidInput

__all__ = ["auto_preparation", "make_pipeline", "preparation_for", "split_columns"]


def split_columns(frame: Any) -> tuple[list[str], list[str]]:
    """Return ``(numeric, categorical)`` column names of a DataFrame."""
    import pandas as pd

    numeric, categorical = [], []
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            categorical.append(str(name))
        else:
            numeric.append(str(name))
    return numeric, categorical


def auto_preparation(frame: Any) -> Any:
    """Impute and scale numbers; impute and one-hot encode everything else."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical = split_columns(frame)
    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        parts.append(
            (
                "num",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                numeric,
            )
        )
    if categorical:
        parts.append(
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        (
                            "onehot",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                        ),
                    ]
                ),
                categorical,
            )
        )
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def preparation_for(
    recipe: str | Mapping[str, Any] | Sequence[Any], frame: Any, datasets: Any
) -> Any:
    """The unfitted preparation step for ``recipe`` (``None`` for ``none``).

    A mapping or list is compiled by the datasets service (``compile_transforms``), so the
    same recipe language serves dataset preparation and model pipelines.
    """
    if recipe == "auto":
        return auto_preparation(frame)
    if recipe == "none":
        return None
    if datasets is None or not hasattr(datasets, "compile_transforms"):
        raise InvalidInput(
            "data.preparation gives a recipe, but no datasets service can compile it; use "
            "'auto' or 'none'"
        )
    return datasets.compile_transforms(recipe, [str(c) for c in frame.columns])


def make_pipeline(preparation: Any, selector: Any, estimator: Any) -> Any:
    """``Pipeline([("prepare", …), ("select", …), ("model", estimator)])`` (steps optional)."""
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    steps: list[tuple[str, Any]] = []
    if preparation is not None:
        steps.append(("prepare", clone(preparation)))
    if selector is not None:
        steps.append(("select", clone(selector)))
    steps.append(("model", estimator))
    return Pipeline(steps)
