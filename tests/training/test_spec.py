"""The training spec: validation errors name the field path; YAML and Python agree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelward.errors import InvalidInput, NotFound
from modelward.training.spec import TrainingSpec, load_spec, parse_spec

SpecFactory = Callable[..., dict[str, Any]]


def test_defaults_fill_in(wine_spec: SpecFactory) -> None:
    spec = parse_spec(wine_spec())
    assert spec.cv.folds == 3
    assert spec.cv.shuffle
    assert spec.search.strategy == "grid"
    assert spec.data.split.test_size == 0.2
    assert spec.resources.num_cpus == 1
    assert spec.run_name == "wine-test"
    assert spec.candidates[0].label == "logreg"


def test_yaml_and_python_give_the_same_spec(wine_spec: SpecFactory, tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(wine_spec()))
    from_yaml = load_spec(path)
    assert from_yaml == TrainingSpec.model_validate(wine_spec())
    assert from_yaml.digest() == parse_spec(wine_spec()).digest()
    assert load_spec_roundtrip(from_yaml, tmp_path) == from_yaml


def load_spec_roundtrip(spec: TrainingSpec, tmp_path: Path) -> TrainingSpec:
    path = tmp_path / "again.yaml"
    path.write_text(spec.to_yaml())
    return load_spec(path)


def test_dataset_without_version_means_latest(wine_spec: SpecFactory) -> None:
    assert parse_spec(wine_spec(data={"dataset": "wine"})).data.dataset == "wine@latest"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"budget": {"max_trials": 0}}, r"budget\.max_trials: .*greater than or equal to 1"),
        ({"budget": {"max_time": 0}}, r"budget\.max_time: .*greater than 0"),
        ({"cv": {"folds": 1}}, r"cv\.folds: .*greater than or equal to 2"),
        ({"data": {"dataset": "wine@"}}, r"data\.dataset: 'wine@' is not a dataset reference"),
        ({"data": {"split": {"test_size": 1.5}}}, r"data\.split\.test_size: .*less than 1"),
        ({"metric": "auc"}, r"metric: unknown metric 'auc'"),
        ({"candidates": []}, r"candidates is empty; list at least one model"),
        ({"feature_selection": {"k": 3, "threshold": 0.1}}, r"feature_selection: give exactly"),
        ({"resources": {"memory": "lots"}}, r"resources\.memory"),
        ({"unknown": 1}, r"unknown: Extra inputs are not permitted"),
    ],
)
def test_invalid_fields_are_named(
    wine_spec: SpecFactory, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_spec(wine_spec(**overrides))


def test_search_space_with_no_values_is_refused(wine_spec: SpecFactory) -> None:
    spec = wine_spec()
    spec["candidates"][1]["space"] = {"max_depth": []}
    with pytest.raises(
        InvalidInput,
        match=r"candidates\[1\]\.space: the search space of "
        r"'max_depth' has no values",
    ):
        parse_spec(spec)


def test_bad_range_and_import_path_are_named(wine_spec: SpecFactory) -> None:
    spec = wine_spec()
    spec["candidates"][0]["space"] = {"C": {"low": 10, "high": 1}}
    with pytest.raises(InvalidInput, match=r"candidates\[0\]\.space\.C: .*high \(1\.0\) is below"):
        parse_spec(spec)
    spec = wine_spec()
    spec["candidates"][0]["estimator"] = "LogisticRegression"
    with pytest.raises(
        InvalidInput,
        match=r"candidates\[0\]\.estimator: 'LogisticRegression' "
        r"is not an import path",
    ):
        parse_spec(spec)


def test_param_in_both_params_and_space_is_refused(wine_spec: SpecFactory) -> None:
    spec = wine_spec()
    spec["candidates"][0]["params"]["C"] = 1.0
    with pytest.raises(InvalidInput, match=r"\['C'\] appear in both params and space"):
        parse_spec(spec)


def test_metric_must_fit_a_declared_task(wine_spec: SpecFactory) -> None:
    with pytest.raises(InvalidInput, match="metric 'rmse' does not fit a classification task"):
        parse_spec(wine_spec(metric="rmse", data={"task": "classification"}))


def test_duplicate_candidate_names_are_refused(wine_spec: SpecFactory) -> None:
    spec = wine_spec()
    spec["candidates"][1]["name"] = "logreg"
    with pytest.raises(InvalidInput, match=r"candidate names \['logreg'\] repeat"):
        parse_spec(spec)


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(InvalidInput, match="is not valid YAML"):
        load_spec(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(InvalidInput, match=r"data: Field required"):
        load_spec(empty)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(InvalidInput, match="a training spec is a mapping"):
        load_spec(scalar)


@pytest.mark.parametrize("name", ["wine.yaml", "diabetes.yaml"])
def test_example_specs_are_valid(name: str) -> None:
    from modelward.training.estimators import check_candidate

    path = Path(__file__).resolve().parents[2] / "examples" / "training" / name
    spec = load_spec(path)
    for i, candidate in enumerate(spec.candidates):
        check_candidate(candidate, f"candidates[{i}]")
