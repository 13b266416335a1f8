"""Continuing a registered model on new data (``--from models:/NAME@ALIAS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_wine

from modelward.client import Client
from modelward.errors import InvalidInput
from modelward.training.warm_start import continue_training

SpecFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def xy() -> tuple[Any, Any]:
    x, y = load_wine(return_X_y=True)
    return (x - x.mean(axis=0)) / x.std(axis=0), y


def test_partial_fit_runs_more_epochs(xy: tuple[Any, Any]) -> None:
    from sklearn.linear_model import SGDClassifier

    x, y = xy
    model = SGDClassifier(random_state=0).fit(x, y)
    before = model.coef_.copy()
    done = continue_training(model, x[:60], y[:60], epochs=3, extra_estimators=10, classes=None)
    assert done == {"method": "partial_fit", "epochs": 3}
    assert not np.array_equal(before, model.coef_)


def test_forests_and_boosting_grow(xy: tuple[Any, Any]) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    x, y = xy
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    done = continue_training(forest, x, y, epochs=1, extra_estimators=7, classes=None)
    assert done == {"method": "warm_start", "n_estimators": 12}
    assert len(forest.estimators_) == 12
    boost = HistGradientBoostingClassifier(max_iter=5, early_stopping=False).fit(x, y)
    done = continue_training(boost, x, y, epochs=1, extra_estimators=3, classes=None)
    assert done == {"method": "warm_start", "max_iter": 8}
    assert boost.n_iter_ == 8


def test_linear_models_restart_from_their_coefficients(xy: tuple[Any, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = xy
    model = LogisticRegression(max_iter=500).fit(x, y)
    done = continue_training(model, x, y, epochs=1, extra_estimators=3, classes=None)
    assert done == {"method": "warm_start"}
    assert model.max_iter == 500  # a solver limit, not a size: left alone


def test_estimators_that_cannot_continue_say_so(xy: tuple[Any, Any]) -> None:
    from sklearn.linear_model import SGDClassifier
    from sklearn.neighbors import KNeighborsClassifier

    x, y = xy
    knn = KNeighborsClassifier().fit(x, y)
    with pytest.raises(InvalidInput, match=r"cannot continue training a sklearn\.neighbors"):
        continue_training(knn, x, y, epochs=1, extra_estimators=1, classes=None)
    sgd = SGDClassifier().fit(x, y)
    with pytest.raises(InvalidInput, match=r"cannot continue on this data: .*classes"):
        continue_training(sgd, x, np.full(len(y), 9), epochs=1, extra_estimators=1, classes=None)


def test_continue_a_registered_model_on_a_new_dataset_version(
    client: Client, wine_spec: SpecFactory, datasets: Any
) -> None:
    spec = wine_spec(
        candidates=[
            {
                "name": "sgd",
                "estimator": "sklearn.linear_model.SGDClassifier",
                "params": {"loss": "log_loss"},
                "space": {"alpha": [1e-4, 1e-2]},
            }
        ]
    )
    first = client.training.train(spec, workers=1, register="wine-sgd")
    client.registry.set_alias("wine-sgd", "champion", first.registered["version"])  # type: ignore[index]
    new = datasets.load("wine@1").sample(frac=0.8, random_state=1).reset_index(drop=True)
    datasets.ingest(new, name="wine")  # wine@2

    spec = wine_spec(data={"dataset": "wine@latest"}, warm_start={"epochs": 2}, candidates=[])
    result = client.training.train(
        spec, from_model="models:/wine-sgd@champion", register="wine-sgd"
    )
    assert result.status == "FINISHED"
    assert result.dataset == "wine@2"
    assert result.winner is None
    assert result.registered == {"name": "wine-sgd", "version": 2}
    parent = client.tracking.get_run(result.run_id)
    assert parent.tags["mw.training.role"] == "warm_start"
    assert parent.tags["mw.training.from"] == "models:/wine-sgd@champion"
    assert parent.params["warm_start_method"] == "partial_fit"
    assert parent.params["warm_start_epochs"] == "2"
    assert "baseline_test_accuracy" in parent.metrics
    assert "test_accuracy" in parent.metrics
    loaded = client.models.load_model("models:/wine-sgd/2")
    assert loaded.predict(new.drop(columns=["target"]).head(3)).shape == (3,)


def test_continue_the_mlp_for_further_epochs(
    client: Client, wine_spec: SpecFactory, datasets: Any
) -> None:
    pytest.importorskip("torch")
    spec = wine_spec(
        candidates=[
            {
                "name": "mlp",
                "estimator": "modelward.training.torch_mlp.MLPClassifier",
                "params": {"max_epochs": 5, "hidden_layers": [8]},
            }
        ],
        feature_selection={"threshold": 0.1},
    )
    first = client.training.train(spec, workers=1, register="wine-mlp")
    files = {e.path for e in client.artifacts.list(f"runs/{first.run_id}")}
    assert "torch_model/weights.safetensors" in files
    result = client.training.train(
        wine_spec(candidates=[], warm_start={"epochs": 3}), from_model="models:/wine-mlp/1"
    )
    parent = client.tracking.get_run(result.run_id)
    assert parent.params["estimator"] == "modelward.training.torch_mlp.MLPClassifier"
    assert parent.params["warm_start_method"] == "partial_fit"
    assert result.registered is None
