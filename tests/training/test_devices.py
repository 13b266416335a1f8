"""Devices: what is detected here, and how a trial's device is described."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from modelward.training import devices


def test_detect_lists_the_cpu_first() -> None:
    found = devices.detect(import_torch=False)
    cpu = found[0]
    assert cpu.kind == "cpu"
    assert cpu.cores == devices.cpu_count() >= 1
    assert cpu.memory > 0
    assert cpu.to_dict()["kind"] == "cpu"


class _Fitted:
    def __init__(self, device: str | None) -> None:
        if device is not None:
            self.device_ = device


def test_cpu_models_are_described_by_their_cores() -> None:
    assert devices.describe_run_device(_Fitted(None), 1.0) == "cpu x1"
    assert devices.describe_run_device(_Fitted("cpu"), 0.5) == "cpu x0.5"


def test_gpu_models_name_their_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    cuda = types.SimpleNamespace(
        current_device=lambda: 0, get_device_name=lambda index: f"NVIDIA H100 #{index}"
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    pipeline: Any = types.SimpleNamespace(steps=[("model", _Fitted("cuda"))])
    assert devices.describe_run_device(pipeline, 1.0) == "cuda:0 (NVIDIA H100 #0)"
    assert devices.describe_run_device(_Fitted("cuda:1"), 1.0) == "cuda:1 (NVIDIA H100 #1)"


def test_the_mlp_uses_the_gpu_only_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    from modelward.training.torch_mlp import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu"
