"""``client.training.train`` end to end on the local executor: wine and diabetes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from modelward.client import Client
from modelward.entities import RunStatus
from modelward.errors import ModelwardError

SpecFactory = Callable[..., dict[str, Any]]


def _children(client: Client, parent_id: str) -> list[Any]:
    run = client.tracking.get_run(parent_id)
    return list(
        client.tracking.search_runs(
            [run.experiment_id], f"parent_id = '{parent_id}'", max_results=1000
        ).items
    )


def _artifacts(client: Client, run_id: str) -> set[str]:
    return {entry.path for entry in client.artifacts.list(f"runs/{run_id}")}


def test_wine_search_records_trials_plots_model_and_registers(
    client: Client, wine_spec: SpecFactory, datasets: Any
) -> None:
    spec = wine_spec(feature_selection={"k": 8})
    result = client.training.train(spec, workers=2, register="wine-clf")

    assert result.status == "FINISHED"
    assert result.dataset == "wine@1"
    assert result.task == "classification"
    assert result.metric == "accuracy"
    assert result.trials == {"FINISHED": 4}
    assert result.winner is not None
    assert result.cv_score == max(r["mean_accuracy"] for r in result.leaderboard)
    assert set(result.test_metrics) == {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
    }
    assert [row["rank"] for row in result.leaderboard] == [1, 2, 3, 4]

    parent = client.tracking.get_run(result.run_id)
    assert parent.status is RunStatus.FINISHED
    assert parent.params["dataset"] == "wine@1"
    assert parent.params["feature_selection"] == "mutual_info k=8"
    assert parent.metrics["test_accuracy"] == result.test_metrics["accuracy"]
    assert parent.tags["mw.training.winner_run"] == result.winner.run_id
    children = _children(client, result.run_id)
    assert len(children) == 4
    for child in children:
        assert child.status is RunStatus.FINISHED
        assert child.params["estimator"] in {
            "sklearn.linear_model.LogisticRegression",
            "sklearn.tree.DecisionTreeClassifier",
        }
        assert {"mean_accuracy", "std_accuracy", "mean_f1", "mean_fit_seconds"} <= set(
            child.metrics
        )
        assert child.tags["mw.trial.device"] == "cpu x1"
        assert child.tags["mw.trial.executor"] == "local"
        folds = client.tracking.get_metric_history(child.id, "fold_accuracy")
        assert [p.step for p in folds] == [0, 1, 2]

    files = _artifacts(client, result.run_id)
    assert {
        "spec.yaml",
        "leaderboard.csv",
        "leaderboard.json",
        "feature_importance.json",
        "plots/confusion_matrix.png",
        "plots/roc_curve.png",
        "plots/precision_recall.png",
        "plots/feature_importance.png",
        "model/modelward-model.json",
        "model/model.skops",
    } <= files
    png = client.artifacts.read_bytes(f"runs/{result.run_id}", "plots/roc_curve.png")
    assert png.startswith(b"\x89PNG")
    board = json.loads(client.artifacts.read_bytes(f"runs/{result.run_id}", "leaderboard.json"))
    assert board[0]["run_id"] == result.winner.run_id

    assert result.registered == {"name": "wine-clf", "version": 1}
    wine = datasets.get("wine@1")
    assert datasets.run_inputs(result.run_id) == [(wine, "train"), (wine, "test")]
    split = datasets.get_split("wine@1", "holdout0.2-seed3-by-target")
    assert str(len(split.test)) == parent.params["n_test_rows"] == "36"
    assert parent.params["split"] == "holdout0.2-seed3-by-target"
    # The pipeline holds modelward's MutualInfoSelector: on the registry's reviewed list.
    model = client.models.load_model("models:/wine-clf/1")
    rows = datasets.load("wine@1").drop(columns=["target"]).head(5)
    assert model.predict(rows).shape == (5,)
    assert model.signature is not None
    assert model.signature.input_names[:2] == ["alcohol", "malic_acid"]


def test_diabetes_regression_with_the_mlp(client: Client, diabetes_spec: SpecFactory) -> None:
    pytest.importorskip("torch")
    spec = diabetes_spec()
    spec["candidates"].append(
        {
            "name": "mlp",
            "estimator": "modelward.training.torch_mlp.MLPRegressor",
            "params": {"max_epochs": 30, "hidden_layers": [16]},
            "space": {"weight_decay": [0.0, 0.01]},
        }
    )
    result = client.training.train(spec, workers=2)
    assert result.task == "regression"
    assert result.metric == "rmse"
    assert result.trials == {"FINISHED": 5}
    scores = [row["mean_rmse"] for row in result.leaderboard]
    assert scores == sorted(scores)  # lower is better: best first
    assert set(result.test_metrics) == {"mse", "rmse", "mae", "r2"}
    files = _artifacts(client, result.run_id)
    assert {"plots/residuals.png", "plots/feature_importance.png"} <= files
    mlp_rows = [r for r in result.leaderboard if r["candidate"] == "mlp"]
    assert all(r["device"] == "cpu x1" for r in mlp_rows)
    if result.winner is not None and result.winner.label == "mlp":
        assert any(p.startswith("torch_model/") for p in files)


def test_same_spec_and_seed_give_the_same_winner_whatever_the_workers(
    client: Client, wine_spec: SpecFactory
) -> None:
    spec = wine_spec(
        candidates=[
            {
                "name": "sgd",
                "estimator": "sklearn.linear_model.SGDClassifier",
                "space": {"alpha": {"low": 1e-5, "high": 1e-1, "log": True}},
                "search": {"strategy": "tpe", "trials": 4, "batch_size": 2},
            }
        ]
    )
    one = client.training.train(spec, workers=1)
    two = client.training.train(spec, workers=2)
    assert one.winner is not None
    assert two.winner is not None
    assert one.winner.params == two.winner.params
    assert [r["params"] for r in one.leaderboard] == [r["params"] for r in two.leaderboard]
    assert [r["mean_accuracy"] for r in one.leaderboard] == [
        r["mean_accuracy"] for r in two.leaderboard
    ]


def test_a_failing_and_a_killed_trial_are_recorded_and_the_search_goes_on(
    client: Client, wine_spec: SpecFactory
) -> None:
    spec = wine_spec(
        candidates=[
            {
                "name": "faulty",
                "estimator": "modelward.testing.estimators.FaultyClassifier",
                "space": {"fault": ["none", "raise", "kill"]},
            }
        ],
        data={"preparation": "none"},
    )
    result = client.training.train(spec, workers=2)
    assert result.status == "FINISHED"
    assert result.trials == {"FINISHED": 1, "FAILED": 2}
    assert result.winner is not None
    assert result.winner.params == {"fault": "none"}
    errors = {r["params"]["fault"]: r["error"] for r in result.leaderboard}
    assert errors["raise"] == "RuntimeError: FaultyClassifier was told to fail"
    assert "worker process running this trial died (killed by SIGKILL)" in errors["kill"]
    failed = [c for c in _children(client, result.run_id) if c.status is RunStatus.FAILED]
    assert len(failed) == 2
    raised = next(c for c in failed if c.params["fault"] == "raise")
    assert raised.tags["mw.trial.error"].startswith("RuntimeError")
    trace = client.artifacts.read_bytes(f"runs/{raised.id}", "error.txt").decode()
    assert "Traceback" in trace


def test_budget_caps_trials_round_robin(client: Client, wine_spec: SpecFactory) -> None:
    result = client.training.train(wine_spec(budget={"max_trials": 3}), workers=1)
    assert result.trials == {"FINISHED": 3}
    assert sorted(r["trial"] for r in result.leaderboard) == ["logreg-0", "logreg-1", "tree-0"]


def test_when_every_trial_fails_nothing_is_kept(client: Client, wine_spec: SpecFactory) -> None:
    spec = wine_spec(
        candidates=[
            {
                "name": "faulty",
                "estimator": "modelward.testing.estimators.FaultyClassifier",
                "params": {"fault": "raise"},
            }
        ]
    )
    with pytest.raises(ModelwardError, match=r"no trial finished.*RuntimeError: FaultyClassifier"):
        client.training.train(spec, workers=1, register="never")
    runs = client.tracking.search_runs(["training-tests"], "tags.`mw.training.role` = 'search'")
    assert [r.status for r in runs.items] == [RunStatus.FAILED]
    with pytest.raises(LookupError, match="never"):
        client.registry.get_model("never")
