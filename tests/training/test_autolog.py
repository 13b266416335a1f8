"""``mw.autolog()``: scikit-learn fits and PyTorch loops record themselves, reversibly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_wine

import modelward as mw
from modelward.client import Client
from modelward.entities import RunStatus
from modelward.training.autolog import data_digest


@pytest.fixture
def fluent(client: Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """Point the top-level functions at the test client; undo autolog afterwards."""
    import modelward.fluent as fl

    monkeypatch.setattr(fl, "_client", client)
    monkeypatch.setattr(fl, "_stack", [])
    yield client
    mw.autolog(disable=True)


@pytest.fixture
def wine() -> tuple[Any, Any]:
    data = load_wine(as_frame=True)
    x = (data.data - data.data.mean()) / data.data.std()  # scaled: solvers converge quietly
    return x, data.target


def _only_run(client: Client) -> Any:
    top = [r for r in client.tracking.search_runs().items if r.parent_id is None]
    assert len(top) == 1, top
    return top[0]


def test_estimator_fit_records_params_metrics_model_and_digest(
    fluent: Client, wine: tuple[Any, Any]
) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = wine
    mw.autolog()
    model = LogisticRegression(C=0.5, max_iter=3000).fit(x, y)
    run = _only_run(fluent)
    assert run.status is RunStatus.FINISHED
    assert run.params["C"] == "0.5"
    assert run.params["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.metrics["training_accuracy"] == pytest.approx(model.score(x, y))
    assert {"training_f1", "training_log_loss", "training_roc_auc"} <= set(run.metrics)
    assert run.tags["mw.autolog.input_digest"] == data_digest(x, y)
    assert run.tags["mw.autolog.input_rows"] == "178"
    loaded = fluent.models.load_model(f"runs:/{run.id}/model")
    assert loaded.signature is not None
    assert np.array_equal(loaded.predict(x.head(5)), model.predict(x.head(5)))


def test_fits_inside_an_active_run_log_there_and_pipelines_log_once(
    fluent: Client, wine: tuple[Any, Any]
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = wine
    mw.autolog(log_models=False)
    with mw.start_run(experiment="mine") as run:
        make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    info = fluent.tracking.get_run(run.id)
    assert info.params["logisticregression__C"] == "1.0"
    assert info.params["standardscaler"] == "StandardScaler"
    assert "training_accuracy" in info.metrics
    assert len(fluent.tracking.search_runs().items) == 1  # the inner fits logged nothing


def test_grid_search_records_one_nested_run_per_candidate(
    fluent: Client, wine: tuple[Any, Any]
) -> None:
    from sklearn.model_selection import GridSearchCV
    from sklearn.tree import DecisionTreeClassifier

    x, y = wine
    mw.autolog()
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]}, cv=3
    ).fit(x, y)
    parent = _only_run(fluent)
    assert parent.params["best_max_depth"] == str(search.best_params_["max_depth"])
    assert parent.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    children = fluent.tracking.search_runs(filter=f"parent_id = '{parent.id}'").items
    assert sorted(c.params["max_depth"] for c in children) == ["1", "2", "3"]
    for child in children:
        assert {"mean_test_score", "std_test_score", "rank_test_score"} <= set(child.metrics)
        folds = fluent.tracking.get_metric_history(child.id, "fold_test_score")
        assert [p.step for p in folds] == [0, 1, 2]
    assert any(e.path.startswith("model/") for e in fluent.artifacts.list(f"runs/{parent.id}"))


def test_disable_restores_the_original_fit(fluent: Client, wine: tuple[Any, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    original = LogisticRegression.fit
    mw.autolog()
    assert LogisticRegression.fit is not original
    mw.autolog(disable=True)
    assert LogisticRegression.fit is original
    x, y = wine
    LogisticRegression(max_iter=3000).fit(x, y)
    assert fluent.tracking.search_runs().items == []


def test_a_failing_fit_fails_its_run_and_raises(fluent: Client) -> None:
    from sklearn.linear_model import LogisticRegression

    mw.autolog()
    with pytest.raises(ValueError, match="needs samples of at least 2 classes"):
        LogisticRegression().fit(np.ones((4, 2)), np.zeros(4))
    assert [r.status for r in fluent.tracking.search_runs().items] == [RunStatus.FAILED]


def test_torch_loop_is_recorded_by_the_hook(fluent: Client) -> None:
    torch = pytest.importorskip("torch")
    from modelward.training.torch_net import MLPNet

    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long()
    net = MLPNet(4, 2, hidden_layers=[8])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    with mw.autolog_torch(net) as hook:
        for epoch in range(3):
            for start in range(0, 64, 16):
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(
                    net(x[start : start + 16]), y[start : start + 16]
                )
                loss.backward()
                optimizer.step()
            hook.log_epoch(epoch, epoch_marker=float(epoch))
    run = _only_run(fluent)
    assert run.status is RunStatus.FINISHED
    assert run.params["optimizer"] == "SGD"
    assert run.params["lr"] == "0.1"
    assert run.params["momentum"] == "0.9"
    assert run.params["model_class"] == "modelward.training.torch_net.MLPNet"
    losses = fluent.tracking.get_metric_history(run.id, "train_loss")
    assert [p.step for p in losses] == list(range(12))
    assert run.tags["mw.autolog.input_batches"] == "12"
    assert len(run.tags["mw.autolog.input_digest"]) == 64
    loaded = fluent.models.load_model(f"runs:/{run.id}/model")
    assert loaded.predict(x[:3].numpy()).shape == (3, 2)
    assert torch.Tensor.backward.__name__ == "backward"
    assert torch.Tensor.backward.__module__.startswith("torch")
