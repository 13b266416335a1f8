"""What hardware a trial can use and what it ran on.

:func:`detect` lists the CPU and, when PyTorch is installed and sees CUDA, each GPU.
:func:`describe_run_device` says what one trial ran on (host, CPU cores it was given, and the
GPU when its model used one), recorded on the trial's run as ``mw.trial.device`` and
``mw.trial.host``. torch is consulted only if it is already imported or the model needs it,
so a scikit-learn-only search never pays its import.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from modelward._lazy import loaded_module

__all__ = ["Device", "cpu_count", "describe_run_device", "detect", "gpu_count"]


@dataclass(frozen=True, slots=True)
class Device:
    """One compute device.

    Attributes:
        kind: ``cpu`` or ``cuda``.
        index: Device index (0 for the CPU).
        name: Model name, e.g. ``NVIDIA H100``.
        memory: Memory in bytes (total RAM for the CPU).
        cores: CPU cores (CPU only).
    """

    kind: str
    index: int
    name: str
    memory: int
    cores: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.kind,
            "index": self.index,
            "name": self.name,
            "memory": self.memory,
            "cores": self.cores,
        }


def cpu_count() -> int:
    """CPU cores this process may use (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu() -> Device:
    import platform

    import psutil

    return Device(
        "cpu",
        0,
        platform.processor() or platform.machine() or "cpu",
        int(psutil.virtual_memory().total),
        cpu_count(),
    )


def _cuda(import_torch: bool) -> list[Device]:
    torch: Any = loaded_module("torch")
    if torch is None and import_torch:
        try:
            import torch
        except ImportError:
            return []
    if torch is None or not torch.cuda.is_available():
        return []
    out = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        out.append(Device("cuda", i, str(props.name), int(props.total_memory)))
    return out


def detect(*, import_torch: bool = True) -> list[Device]:
    """The CPU, then each CUDA GPU visible to PyTorch (none without torch)."""
    return [_cpu(), *_cuda(import_torch)]


def gpu_count() -> int:
    """Number of CUDA GPUs PyTorch can use here (0 without torch)."""
    return len(_cuda(import_torch=True))


def describe_run_device(model: Any, num_cpus: float) -> str:
    """A short description of what a fitted model ran on, e.g. ``cuda:0 (NVIDIA H100)``."""
    device = _model_device(model)
    if device is not None and device.startswith("cuda"):
        torch: Any = loaded_module("torch")
        name = ""
        if torch is not None:
            index = int(device.partition(":")[2] or torch.cuda.current_device())
            name = f" ({torch.cuda.get_device_name(index)})"
            device = f"cuda:{index}"
        return f"{device}{name}"
    cores = int(num_cpus) if float(num_cpus).is_integer() else num_cpus
    return f"cpu x{cores}"


def _model_device(model: Any) -> str | None:
    steps = getattr(model, "steps", None)
    final = steps[-1][1] if steps else model
    device = getattr(final, "device_", None)
    return str(device) if device is not None else None


def host() -> str:
    """This machine's host name."""
    return socket.gethostname()
