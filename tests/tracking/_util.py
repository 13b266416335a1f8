"""Helpers shared by tracking tests."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

#: The source tree, for child processes that import modelward.
SRC = str(Path(__file__).resolve().parents[2] / "src")


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``condition`` until it holds (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def child_env() -> dict[str, str]:
    """Environment for a child Python that imports modelward from the source tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWARD_")}
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env
