"""Bad input fails before anything runs, with a message that says what to fix, and leaves
nothing registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelward.client import Client
from modelward.errors import InvalidInput, NotFound, Unavailable

SpecFactory = Callable[..., dict[str, Any]]


def _no_runs_and_nothing_registered(client: Client) -> None:
    assert client.tracking.search_runs().items == []
    assert client.registry.list_models() == []


def test_unknown_dataset(client: Client, wine_spec: SpecFactory) -> None:
    with pytest.raises(NotFound, match="dataset 'nope' does not exist"):
        client.training.train(wine_spec(data={"dataset": "nope@1"}), register="m")
    _no_runs_and_nothing_registered(client)


def test_unknown_target_and_feature_columns(client: Client, wine_spec: SpecFactory) -> None:
    with pytest.raises(
        NotFound,
        match=r"wine@1 has no column 'kind' \(data.target\); its "
        r"columns are alcohol, malic_acid",
    ):
        client.training.train(wine_spec(data={"target": "kind"}), register="m")
    with pytest.raises(NotFound, match=r"has no column\(s\) \['colour'\] \(data.features\)"):
        client.training.train(wine_spec(data={"features": ["alcohol", "colour"]}))
    _no_runs_and_nothing_registered(client)


def test_target_with_one_class(client: Client, wine_spec: SpecFactory, datasets: Any) -> None:
    frame = datasets.load("wine@1")
    frame["target"] = 1
    datasets.ingest(frame, name="flat")
    with pytest.raises(
        InvalidInput,
        match=r"the target 'target' of flat@1 has only one class "
        r"\(1\); classification needs at least two",
    ):
        client.training.train(
            wine_spec(data={"dataset": "flat@1", "task": "classification"}), register="m"
        )
    _no_runs_and_nothing_registered(client)


def test_estimator_that_cannot_be_imported(client: Client, wine_spec: SpecFactory) -> None:
    spec = wine_spec()
    spec["candidates"][1]["estimator"] = "sklearn.nowhere.Forest"
    with pytest.raises(
        NotFound,
        match=r"candidates\[1\]\.estimator: cannot import module "
        r"'sklearn.nowhere'",
    ):
        client.training.train(spec)
    spec["candidates"][1]["estimator"] = "sklearn.ensemble.RandomJungle"
    with pytest.raises(NotFound, match=r"module 'sklearn.ensemble' has no 'RandomJungle'"):
        client.training.train(spec)
    spec["candidates"][1]["estimator"] = "os.path.join"
    with pytest.raises(InvalidInput, match=r"os\.path\.join is not a scikit-learn-style estimator"):
        client.training.train(spec)
    _no_runs_and_nothing_registered(client)


def test_invalid_params_use_the_estimators_own_message(
    client: Client, wine_spec: SpecFactory
) -> None:
    spec = wine_spec()
    spec["candidates"][0]["params"]["colour"] = "red"
    with pytest.raises(
        InvalidInput,
        match=r"candidates\[0\]\.params: Invalid parameter 'colour' "
        r"for estimator LogisticRegression",
    ):
        client.training.train(spec)
    spec = wine_spec()
    spec["candidates"][0]["space"]["C"] = [1.0, -3.0]
    with pytest.raises(
        InvalidInput,
        match=r"candidates\[0\]\.space\.C: The 'C' parameter of "
        r"LogisticRegression must be a float in the range \(0.0, inf\]",
    ):
        client.training.train(spec)
    spec = wine_spec()
    spec["candidates"][1]["space"] = {"max_depth": {"low": -4, "high": 4, "type": "int"}}
    spec["candidates"][1]["search"] = {"strategy": "random", "trials": 2}
    with pytest.raises(
        InvalidInput,
        match=r"candidates\[1\]\.space\.max_depth: The 'max_depth' "
        r"parameter of DecisionTreeClassifier",
    ):
        client.training.train(spec)
    _no_runs_and_nothing_registered(client)


def test_regressor_for_a_classification_task(client: Client, wine_spec: SpecFactory) -> None:
    spec = wine_spec()
    spec["candidates"][1] = {"estimator": "sklearn.linear_model.Ridge"}
    with pytest.raises(
        InvalidInput,
        match=r"candidates\[1\]\.estimator: sklearn.linear_model."
        r"Ridge is a regressor but the task is classification",
    ):
        client.training.train(spec)
    with pytest.raises(InvalidInput, match=r"metric 'rmse' does not fit the classification task"):
        client.training.train(wine_spec(metric="rmse"))
    _no_runs_and_nothing_registered(client)


def test_too_few_rows_for_the_folds(client: Client, wine_spec: SpecFactory, datasets: Any) -> None:
    datasets.ingest(datasets.load("wine@1").groupby("target").head(4), name="tiny")
    spec = wine_spec(data={"dataset": "tiny@1", "split": {"test_size": 0.25}}, cv={"folds": 4})
    with pytest.raises(InvalidInput, match=r"class .* has 3 training rows, fewer than cv.folds=4"):
        client.training.train(spec)
    with pytest.raises(InvalidInput, match=r"cannot split tiny@1 into train and test"):
        client.training.train(wine_spec(data={"dataset": "tiny@1", "split": {"test_size": 0.1}}))
    _no_runs_and_nothing_registered(client)


def test_invalid_registered_name_is_refused_first(client: Client, wine_spec: SpecFactory) -> None:
    with pytest.raises(InvalidInput, match="model name"):
        client.training.train(wine_spec(), register="bad name/with slash")
    _no_runs_and_nothing_registered(client)


def test_ray_unreachable_fails_fast_naming_the_address(
    client: Client, wine_spec: SpecFactory
) -> None:
    pytest.importorskip("ray")
    import time

    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"cannot reach the Ray cluster at 127.0.0.1:9 "):
        client.training.train(wine_spec(), executor="ray", address="127.0.0.1:9")
    assert time.monotonic() - started < 10
    with pytest.raises(InvalidInput, match="Ray address 'nowhere' is not HOST:PORT"):
        client.training.train(wine_spec(), executor="ray", address="nowhere")
    _no_runs_and_nothing_registered(client)
