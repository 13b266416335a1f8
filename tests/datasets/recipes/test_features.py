"""Feature steps compile to an unfitted ColumnTransformer that training fits on train rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from modelward.datasets import DatasetService, Recipe
from modelward.datasets.recipes import Encode, FeatureSpec, Impute, Scale, compile_transforms
from modelward.errors import InvalidInput

FRAME = pd.DataFrame(
    {
        "a": [1.0, 2.0, None, 4.0, 5.0, 6.0],
        "b": [10.0, 0.0, 5.0, 5.0, 10.0, 0.0],
        "color": ["red", "blue", "red", None, "green", "blue"],
        "size": ["s", "m", "l", "m", "s", "l"],
        "keep": [7, 8, 9, 10, 11, 12],
        "target": [0, 1, 0, 1, 0, 1],
    }
)

SPEC = FeatureSpec(
    steps=(
        Impute(["a"], "median"),
        Impute(["color"], "most_frequent"),
        Scale(["a"], "standard"),
        Scale(["b"], "minmax"),
        Encode(["color"], "onehot"),
        Encode(["size"], "ordinal"),
    ),
    target="target",
)


def test_compiled_transformer_is_unfitted_and_transforms_each_column() -> None:
    transformer = compile_transforms(SPEC, list(FRAME.columns))
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(transformer)
    features = FRAME.drop(columns="target")
    out = transformer.set_output(transform="pandas").fit(features).transform(features)
    assert list(out.columns) == ["a", "color_blue", "color_green", "color_red", "b", "size", "keep"]
    assert out["a"].mean() == pytest.approx(0.0)
    assert (out["b"].min(), out["b"].max()) == (0.0, 1.0)
    assert out["color_blue"].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]  # None -> most frequent
    assert out["keep"].tolist() == [7, 8, 9, 10, 11, 12]  # passthrough, target left out


def test_fitting_on_train_rows_only_learns_from_them() -> None:
    transformer = compile_transforms(FeatureSpec((Scale(["b"]),)), ["b"])
    train = FRAME.iloc[:3][["b"]]
    fitted = clone(transformer).fit(train)
    scaler = fitted.named_transformers_["scale_1"].named_steps["scale_standard"]
    assert scaler.mean_[0] == pytest.approx(train["b"].mean())


def test_it_travels_inside_a_model_pipeline(service: DatasetService) -> None:
    version = service.ingest("sklearn:wine", name="wine").version
    features = [c for c in version.columns if c != "target"]
    recipe = Recipe.from_dict(
        {
            "inputs": {"wine": version.ref},
            "features": {"target": "target", "steps": [{"scale": {"columns": features}}]},
        }
    )
    parts = service.split(version, test=0.25, seed=3, stratify="target")
    data = service.load(version)
    train = data.iloc[parts.train]
    model = Pipeline(
        [
            ("features", service.compile_transforms(recipe, list(data.columns))),
            ("model", LogisticRegression(max_iter=2000)),
        ]
    )
    model.fit(train.drop(columns="target"), train["target"])
    test = data.iloc[parts.test]
    assert model.score(test.drop(columns="target"), test["target"]) > 0.8
    assert np.isfinite(model.predict_proba(test.drop(columns="target"))).all()


def test_compile_from_a_prepared_version(service: DatasetService) -> None:
    service.ingest(FRAME, name="raw")
    prepared = service.prepare(
        {
            "inputs": {"raw": "raw@1"},
            "steps": [{"select": ["a", "b", "target"]}],
            "features": {"target": "target", "steps": [{"scale": {"columns": ["a", "b"]}}]},
        },
        name="ready",
    ).version
    transformer = service.compile_transforms(prepared.ref)
    assert transformer.transformers[0][2] == ["a", "b"]
    plain = service.ingest(FRAME.iloc[:2], name="plain").version
    with pytest.raises(InvalidInput, match="plain@1 was not prepared by a recipe"):
        service.compile_transforms(plain.ref)


@pytest.mark.parametrize(
    ("spec", "columns", "message"),
    [
        (FeatureSpec(()), None, "the recipe has no feature steps"),
        (FeatureSpec((Scale(["a"]), Encode(["a"]))), None, "column 'a' gets two encode steps"),
        (FeatureSpec((Scale(["zz"]),)), ["a"], r"name column\(s\) the data lacks: zz"),
    ],
)
def test_bad_feature_specs(spec: FeatureSpec, columns: list[str] | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        compile_transforms(spec, columns)


def test_feature_step_parsing_errors() -> None:
    with pytest.raises(InvalidInput, match="names the target 'y'; the label is never transformed"):
        Recipe.from_dict(
            {
                "inputs": {"a": "a"},
                "features": {"target": "y", "steps": [{"scale": {"columns": ["y"]}}]},
            }
        )
    with pytest.raises(InvalidInput, match="scale method must be one of standard, minmax"):
        Recipe.from_dict(
            {"inputs": {"a": "a"}, "features": [{"scale": {"columns": ["x"], "method": "robust"}}]}
        )
