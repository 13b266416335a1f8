"""Samples of the machine's vital signs, logged as ``system/…`` metrics of running runs."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["SystemSampler"]

log = logging.getLogger(__name__)


class SystemSampler:
    """Takes one sample of CPU, memory, disk and (when present) NVIDIA GPU use.

    Args:
        disk_path: Folder whose file system's usage is reported (the modelward home).
    """

    def __init__(self, disk_path: Path | None = None) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process(os.getpid())
        self._disk_path = disk_path if disk_path is not None and disk_path.exists() else Path.cwd()
        self._has_gpu = shutil.which("nvidia-smi") is not None
        # The first cpu_percent call only primes the counters.
        psutil.cpu_percent(interval=None)
        self._process.cpu_percent(interval=None)

    def sample(self) -> dict[str, float]:
        """Return one sample as ``{metric key: value}``."""
        ps = self._psutil
        vm = ps.virtual_memory()
        values = {
            "system/cpu_percent": float(ps.cpu_percent(interval=None)),
            "system/memory_percent": float(vm.percent),
            "system/memory_used_mb": vm.used / 2**20,
            "system/process_cpu_percent": float(self._process.cpu_percent(interval=None)),
            "system/process_rss_mb": self._process.memory_info().rss / 2**20,
        }
        try:
            disk = ps.disk_usage(str(self._disk_path))
            values["system/disk_used_percent"] = float(disk.percent)
            values["system/disk_free_gb"] = disk.free / 2**30
        except OSError as exc:
            log.debug("disk usage unavailable: %s", exc)
        if self._has_gpu:
            values.update(self._gpu())
        return values

    def _gpu(self) -> dict[str, float]:
        try:
            out = subprocess.run(
                [
                    "nvidia-smi",
                    "--query-gpu=index,utilization.gpu,memory.used,memory.total",
                    "--format=csv,noheader,nounits",
                ],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return {}
        values: dict[str, float] = {}
        for line in out.splitlines():
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 4:
                continue
            try:
                i, util, used, total = parts[0], float(parts[1]), float(parts[2]), float(parts[3])
            except ValueError:
                continue
            values[f"system/gpu{i}_utilization_percent"] = util
            values[f"system/gpu{i}_memory_used_mb"] = used
            values[f"system/gpu{i}_memory_percent"] = 100.0 * used / total if total else 0.0
        return values
