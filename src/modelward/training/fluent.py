"""Top-level training functions: ``mw.train``, ``mw.autolog`` and ``mw.autolog_torch``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelward.training.autolog import autolog, autolog_torch

if TYPE_CHECKING:
    from modelward.training.executors import Executor
    from modelward.training.search import SearchListener
    from modelward.training.service import TrainingResult
    from modelward.training.spec import TrainingSpec

__all__ = ["autolog", "autolog_torch", "train"]


def train(
    spec: TrainingSpec | Mapping[str, Any] | str | Path,
    *,
    executor: str | Executor = "local",
    workers: int | None = None,
    address: str | None = None,
    register: str | None = None,
    from_model: str | None = None,
    resume: str | None = None,
    listener: SearchListener | None = None,
) -> TrainingResult:
    """Run a training spec on the default client (see ``docs/training.md``).

    Example:
        >>> result = mw.train("examples/training/wine.yaml", register="wine")
        >>> result.winner.label, result.test_metrics["accuracy"]
    """
    from modelward.fluent import get_client

    return get_client().training.train(
        spec,
        executor=executor,
        workers=workers,
        address=address,
        register=register,
        from_model=from_model,
        resume=resume,
        listener=listener,
    )
