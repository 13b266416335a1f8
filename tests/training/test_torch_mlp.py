"""The PyTorch MLP behaves as a scikit-learn estimator and saves without pickle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_wine
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelward.training.torch_mlp import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def wine() -> tuple[Any, Any]:
    x, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def test_classifier_learns_with_dropout_batch_norm_and_weight_decay(wine: tuple[Any, Any]) -> None:
    x, y = wine
    model = MLPClassifier(
        hidden_layers=(16,),
        dropout=0.2,
        batch_norm=True,
        weight_decay=1e-3,
        max_epochs=60,
        random_state=0,
    ).fit(x, y)
    assert model.device_ == "cpu"
    assert list(model.classes_) == [0, 1, 2]
    assert model.score(x, y) > 0.9
    proba = model.predict_proba(x[:4])
    assert proba.shape == (4, 3)
    assert np.allclose(proba.sum(axis=1), 1)


def test_early_stopping_stops_and_keeps_the_best_weights(wine: tuple[Any, Any]) -> None:
    x, y = wine
    model = MLPClassifier(hidden_layers=(8,), max_epochs=500, patience=3, random_state=0).fit(x, y)
    assert model.n_epochs_ < 500
    assert len(model.validation_scores_) == model.n_epochs_
    no_stop = MLPClassifier(hidden_layers=(8,), max_epochs=5, early_stopping=False).fit(x, y)
    assert no_stop.n_epochs_ == 5
    assert no_stop.validation_scores_ == []


def test_same_seed_same_model(wine: tuple[Any, Any]) -> None:
    x, y = wine
    a = MLPClassifier(hidden_layers=(8,), max_epochs=10, dropout=0.3, random_state=1).fit(x, y)
    b = clone(a).fit(x, y)
    assert np.array_equal(a.predict_proba(x), b.predict_proba(x))


def test_partial_fit_and_warm_start_continue_training(wine: tuple[Any, Any]) -> None:
    x, y = wine
    model = MLPClassifier(hidden_layers=(8,), random_state=0)
    model.partial_fit(x[:50], y[:50], classes=[0, 1, 2])
    model.partial_fit(x[50:], y[50:])
    assert model.n_epochs_ == 2
    warm = MLPClassifier(hidden_layers=(8,), max_epochs=3, early_stopping=False, warm_start=True)
    warm.fit(x, y)
    first = warm.module_.state_dict()["layers.0.weight"].clone()
    warm.fit(x, y)
    assert warm.n_epochs_ == 6
    assert not np.array_equal(first.numpy(), warm.module_.state_dict()["layers.0.weight"].numpy())
    with pytest.raises(ValueError, match=r"y holds classes \[7\] not seen in the first fit"):
        model.partial_fit(x[:2], np.array([7, 7]))


def test_bad_params_and_one_class_fail_with_clear_messages(wine: tuple[Any, Any]) -> None:
    x, y = wine
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), not 1.5"):
        MLPClassifier(dropout=1.5).fit(x, y)
    with pytest.raises(ValueError, match="needs at least 2 classes"):
        MLPClassifier().fit(x[:5], np.zeros(5))


def test_regressor_predicts_in_the_target_unit() -> None:
    x, y = load_diabetes(return_X_y=True)
    model = make_pipeline(StandardScaler(), MLPRegressor(hidden_layers=(32,), random_state=0))
    model.fit(x, y)
    predicted = model.predict(x)
    assert predicted.shape == (len(y),)
    assert abs(float(predicted.mean()) - float(y.mean())) < 20
    assert model.score(x, y) > 0.3


def test_pipeline_saves_with_skops_and_loads_identically(wine: tuple[Any, Any]) -> None:
    import skops.io as sio

    x, y = wine
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layers=(8,), max_epochs=5))
    model.fit(x, y)
    data = sio.dumps(model)
    assert sio.get_untrusted_types(data=data) == ["modelward.training.torch_mlp.MLPClassifier"]
    loaded = sio.loads(data, trusted=["modelward.training.torch_mlp.MLPClassifier"])
    assert np.array_equal(loaded.predict_proba(x), model.predict_proba(x))
    loaded[-1].partial_fit(x, y)  # a loaded model can keep training
    assert loaded[-1].n_epochs_ == model[-1].n_epochs_ + 1


def test_bare_network_matches_the_estimator(wine: tuple[Any, Any]) -> None:
    import torch

    from modelward.training.torch_net import MLPNet

    x, y = wine
    model = MLPClassifier(hidden_layers=(8, 4), max_epochs=5, batch_norm=True).fit(x, y)
    net = model.to_torch()
    rebuilt = MLPNet(**net.modelward_init_kwargs())
    rebuilt.load_state_dict(net.state_dict())
    rebuilt.eval()
    with torch.no_grad():
        logits = rebuilt(torch.as_tensor(x, dtype=torch.float32)).numpy()
    assert np.array_equal(model.classes_[logits.argmax(axis=1)], model.predict(x))
    assert net.modelward_init_kwargs()["classes"] == [0, 1, 2]
