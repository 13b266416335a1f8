"""The runtime environment a model was saved in, and how the loading one differs from it.

The manifest records a small subset of what a run's environment holds (Python, the libraries
that decide how a model loads and computes, CPU and GPUs). At load time, a different
major.minor version of Python or of one of the model's libraries raises an
:class:`EnvironmentMismatchWarning`: the model usually still loads, but results or loading
can change, and the warning says what to install to match.
"""

from __future__ import annotations

import functools
import platform
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "TRACKED_PACKAGES",
    "EnvironmentMismatchWarning",
    "compare_environments",
    "runtime_environment",
    "warn_on_mismatch",
]

#: Distribution names whose versions are recorded in every manifest (when installed).
TRACKED_PACKAGES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "scikit-learn",
    "skops",
    "scipy",
    "onnx",
    "onnxruntime",
    "skl2onnx",
    "torch",
    "safetensors",
    "joblib",
    "modelward",
)


class EnvironmentMismatchWarning(UserWarning):
    """The loading environment differs from the saving one in a way that can matter."""


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        if dist == "modelward":
            from modelward._version import __version__

            return __version__
        return None


@functools.lru_cache(maxsize=1)
def runtime_environment() -> dict[str, Any]:
    """Describe this process: Python, tracked library versions, CPU and GPUs (cached)."""
    from modelward.tracking.environment import detect_gpus

    packages = {name: v for name in TRACKED_PACKAGES if (v := _version(name)) is not None}
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": platform.system(),
        "machine": platform.machine(),
        "packages": packages,
        "gpus": [g.get("name") for g in detect_gpus()],
    }


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split("+")[0].split(".")[:2])


def compare_environments(
    saved: Mapping[str, Any], current: Mapping[str, Any], packages: Sequence[str]
) -> list[str]:
    """Return human-readable differences that matter (empty when compatible).

    Args:
        saved: The manifest's environment.
        current: :func:`runtime_environment` of the loading process.
        packages: The distributions this model depends on.
    """
    problems: list[str] = []
    py_saved, py_now = saved.get("python"), current.get("python")
    if py_saved and py_now and _minor(str(py_saved)) != _minor(str(py_now)):
        problems.append(f"Python {py_saved} when saved, {py_now} now")
    saved_pk: Mapping[str, str] = saved.get("packages") or {}
    now_pk: Mapping[str, str] = current.get("packages") or {}
    for name in packages:
        was, now = saved_pk.get(name), now_pk.get(name)
        if was is None:
            continue
        if now is None:
            problems.append(
                f"{name} {was} when saved, not installed now (pip install {name}=={was})"
            )
        elif _minor(was) != _minor(now):
            problems.append(f"{name} {was} when saved, {now} now (pip install {name}=={was})")
    # A GPU matters to frameworks that place weights on it (torch loads onto CPU without one).
    if "torch" in packages and saved.get("gpus") and not current.get("gpus"):
        problems.append(
            f"GPU(s) {', '.join(map(str, saved['gpus']))} when saved, none now (runs on CPU)"
        )
    if saved.get("machine") and current.get("machine") and saved["machine"] != current["machine"]:
        problems.append(f"CPU architecture {saved['machine']} when saved, {current['machine']} now")
    return problems


def warn_on_mismatch(
    saved: Mapping[str, Any], packages: Sequence[str], *, where: str, stacklevel: int = 3
) -> list[str]:
    """Warn (:class:`EnvironmentMismatchWarning`) when the environments differ; return why."""
    problems = compare_environments(saved, runtime_environment(), packages)
    if problems:
        warnings.warn(
            f"{where} was saved in a different environment: {'; '.join(problems)}. It may "
            "load or predict differently; match the versions to be sure",
            EnvironmentMismatchWarning,
            stacklevel=stacklevel,
        )
    return problems
