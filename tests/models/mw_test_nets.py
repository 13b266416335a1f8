"""Importable test classes (a model's class must be importable by path when it is loaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from modelward.models import PythonModel


class TinyNet(torch.nn.Module):
    """Two linear layers; states its constructor arguments for the pytorch flavor."""

    def __init__(self, n_in: int = 4, hidden: int = 8) -> None:
        super().__init__()
        self.init_kwargs = {"n_in": n_in, "hidden": hidden}
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.body(x), dim=-1)


class Threshold(PythonModel):
    """Predicts income > threshold, the threshold read from an artifact file."""

    def __init__(self, column: str = "income") -> None:
        self.column = column
        self.threshold = 0.0

    def load_context(self, artifacts: Path) -> None:
        self.threshold = float((artifacts / "threshold.txt").read_text())

    def predict(self, data: Any) -> Any:
        return (data[self.column].to_numpy() > self.threshold).astype(np.int64)

    def predict_proba(self, data: Any) -> Any:
        p = (data[self.column].to_numpy() > self.threshold).astype(float)
        return np.column_stack([1 - p, p])
