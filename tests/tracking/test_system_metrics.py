"""System metric samples: CPU, memory, disk, and NVIDIA GPUs when present."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modelward.tracking import system_metrics
from modelward.tracking.system_metrics import SystemSampler


def test_sample_reports_cpu_memory_and_disk(tmp_path: Path) -> None:
    sample = SystemSampler(tmp_path).sample()
    assert set(sample) >= {
        "system/cpu_percent",
        "system/memory_percent",
        "system/memory_used_mb",
        "system/process_cpu_percent",
        "system/process_rss_mb",
        "system/disk_used_percent",
        "system/disk_free_gb",
    }
    assert all(k.startswith("system/") for k in sample)
    assert all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in sample.values())
    assert sample["system/process_rss_mb"] > 1


def test_gpu_utilisation_and_memory_come_from_nvidia_smi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(system_metrics.shutil, "which", lambda name: "/usr/bin/nvidia-smi")

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert argv[0] == "nvidia-smi"
        out = "0, 87, 40000, 80000\n1, [N/A], 10, 80000\n"
        return subprocess.CompletedProcess(argv, 0, out, "")

    monkeypatch.setattr(system_metrics.subprocess, "run", fake_run)
    sample = SystemSampler(tmp_path).sample()
    assert sample["system/gpu0_utilization_percent"] == 87.0
    assert sample["system/gpu0_memory_used_mb"] == 40000.0
    assert sample["system/gpu0_memory_percent"] == 50.0
    assert not any(k.startswith("system/gpu1") for k in sample)  # unparsable row skipped
