"""The Ray executor on a real local Ray instance (started once for this module).

Skipped when Ray is not installed, unless ``MODELWARD_TEST_REQUIRE_RAY=1`` (CI) makes that a
failure. Ray takes a few seconds and ~650 MB to start, so these tests are few.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from modelward.client import Client
from modelward.testing.executor_contract import *  # noqa: F403
from modelward.training.executors.base import Executor

pytestmark = pytest.mark.ray

SpecFactory = Callable[..., dict[str, Any]]

_RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    try:
        import ray
    except ImportError:
        if os.environ.get("MODELWARD_TEST_REQUIRE_RAY") == "1":
            pytest.fail("MODELWARD_TEST_REQUIRE_RAY=1 but ray is not installed")
        pytest.skip("ray is not installed (pip install 'modelward[ray]')")
    saved = {k: os.environ.get(k) for k in _RAY_ENV}
    os.environ.update(_RAY_ENV)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    yield ray
    ray.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def executor(ray_instance: Any) -> Iterator[Executor]:
    from modelward.training.executors.ray import RayExecutor

    with RayExecutor() as ex:
        yield ex


def _same_search(a: Any, b: Any, metric: str) -> None:
    assert a.winner.params == b.winner.params
    assert a.winner.label == b.winner.label
    assert [r["trial"] for r in a.leaderboard] == [r["trial"] for r in b.leaderboard]
    assert [r[f"mean_{metric}"] for r in a.leaderboard] == pytest.approx(
        [r[f"mean_{metric}"] for r in b.leaderboard]
    )


def test_wine_on_ray_matches_local_and_registers(
    ray_instance: Any, client: Client, wine_spec: SpecFactory
) -> None:
    spec = wine_spec(feature_selection={"k": 6})
    spec["candidates"][0]["search"] = {"strategy": "tpe", "trials": 3, "batch_size": 2}
    spec["candidates"][0]["space"] = {"C": {"low": 0.01, "high": 10.0, "log": True}}
    on_ray = client.training.train(spec, executor="ray", register="wine-ray")
    local = client.training.train(spec, executor="local", workers=2)
    assert on_ray.status == "FINISHED"
    assert on_ray.registered == {"name": "wine-ray", "version": 1}
    _same_search(on_ray, local, "accuracy")
    assert on_ray.test_metrics == pytest.approx(local.test_metrics)
    trial = client.tracking.get_run(on_ray.leaderboard[0]["run_id"])
    assert trial.tags["mw.trial.executor"] == "ray"
    assert trial.tags["mw.trial.device"] == "cpu x1"


def test_diabetes_on_ray_matches_local(
    ray_instance: Any, client: Client, diabetes_spec: SpecFactory
) -> None:
    on_ray = client.training.train(diabetes_spec(), executor="ray")
    local = client.training.train(diabetes_spec(), executor="local", workers=1)
    _same_search(on_ray, local, "rmse")


def test_failing_and_crashing_trials_on_ray(
    ray_instance: Any, client: Client, wine_spec: SpecFactory
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
    result = client.training.train(spec, executor="ray")
    assert result.trials == {"FINISHED": 1, "FAILED": 2}
    errors = {r["params"]["fault"]: r["error"] for r in result.leaderboard}
    assert errors["raise"] == "RuntimeError: FaultyClassifier was told to fail"
    assert errors["kill"].startswith("the Ray worker running this trial died")
