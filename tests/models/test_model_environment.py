"""Environment comparison and URI parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelward.errors import InvalidInput
from modelward.models.environment import compare_environments, runtime_environment
from modelward.models.uri import (
    LocalRef,
    RegistryRef,
    RunRef,
    parse_model_uri,
    parse_registry_ref,
)

SAVED = {"python": "3.11.4", "machine": "x86_64", "packages": {"numpy": "2.4.1", "torch": "2.1"}}


def test_patch_releases_do_not_matter() -> None:
    now = {
        "python": "3.11.9",
        "machine": "x86_64",
        "packages": {"numpy": "2.4.6", "torch": "2.1.2"},
    }
    assert compare_environments(SAVED, now, ["numpy", "torch"]) == []


def test_minor_versions_missing_packages_and_cpu_matter() -> None:
    now = {"python": "3.12.1", "machine": "arm64", "packages": {"numpy": "2.5.0"}}
    problems = compare_environments(SAVED, now, ["numpy", "torch"])
    assert problems == [
        "Python 3.11.4 when saved, 3.12.1 now",
        "numpy 2.4.1 when saved, 2.5.0 now (pip install numpy==2.4.1)",
        "torch 2.1 when saved, not installed now (pip install torch==2.1)",
        "CPU architecture x86_64 when saved, arm64 now",
    ]


def test_gpu_loss_matters_only_to_gpu_frameworks() -> None:
    saved = {**SAVED, "gpus": ["NVIDIA H100"]}
    now = {**SAVED, "gpus": []}
    assert compare_environments(saved, now, ["torch"]) == [
        "GPU(s) NVIDIA H100 when saved, none now (runs on CPU)"
    ]
    assert compare_environments(saved, now, ["numpy"]) == []


def test_runtime_environment_records_libraries() -> None:
    env = runtime_environment()
    assert env["python"]
    assert "numpy" in env["packages"]
    assert isinstance(env["gpus"], list)


def test_uri_forms() -> None:
    run = "0123456789abcdef0123456789abcdef"
    assert parse_model_uri(f"runs:/{run}/models/clf") == RunRef(run, "models/clf")
    assert parse_model_uri("models:/churn/3") == RegistryRef("churn", version=3)
    assert parse_model_uri("models:/churn@champion") == RegistryRef("churn", alias="champion")
    assert parse_model_uri("models:/churn/latest").latest
    assert parse_model_uri("some/dir") == LocalRef(Path("some/dir"))
    assert parse_registry_ref("churn") == RegistryRef("churn")
    assert parse_registry_ref("churn/2") == RegistryRef("churn", version=2)
    assert str(RegistryRef("churn", alias="champion")) == "models:/churn@champion"
    with pytest.raises(InvalidInput, match="not plain"):
        parse_model_uri(f"runs:/{run}/../x")
