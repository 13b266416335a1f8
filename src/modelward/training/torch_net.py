"""The PyTorch network behind :mod:`modelward.training.torch_mlp` (imports torch).

:class:`MLPNet` is a plain ``nn.Module`` whose constructor arguments fully describe it, so the
registry's PyTorch flavor can save it as safetensors weights plus
``{"class": "modelward.training.torch_net:MLPNet", "init_kwargs": {...}}`` and build it again
when loading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["MLPNet"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}


class MLPNet(nn.Module):
    """A feed-forward network: [Linear -> BatchNorm -> activation -> Dropout] x N -> Linear.

    Args:
        n_features: Input width.
        n_outputs: Output width (classes, or 1 for regression).
        hidden_layers: Width of each hidden layer.
        dropout: Dropout probability after each hidden layer.
        batch_norm: Batch normalisation after each hidden linear layer.
        activation: ``relu``, ``tanh``, ``gelu`` or ``leaky_relu``.
        target_mean: Regression: added to the output (the network learns a standardised
            target, and returns it in the original unit).
        target_std: Regression: the output is multiplied by this before adding the mean.
        classes: Classification: the class labels in output order (recorded, not used).
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_layers: Sequence[int] = (64,),
        dropout: float = 0.0,
        batch_norm: bool = False,
        activation: str = "relu",
        target_mean: float = 0.0,
        target_std: float = 1.0,
        classes: Sequence[Any] | None = None,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, not {activation!r}"
            )
        self.init_kwargs: dict[str, Any] = {
            "n_features": int(n_features),
            "n_outputs": int(n_outputs),
            "hidden_layers": [int(h) for h in hidden_layers],
            "dropout": float(dropout),
            "batch_norm": bool(batch_norm),
            "activation": activation,
            "target_mean": float(target_mean),
            "target_std": float(target_std),
            "classes": list(classes) if classes is not None else None,
        }
        self.target_mean = float(target_mean)
        self.target_std = float(target_std)
        layers: list[nn.Module] = []
        width = int(n_features)
        for hidden in hidden_layers:
            layers.append(nn.Linear(width, int(hidden)))
            if batch_norm:
                layers.append(nn.BatchNorm1d(int(hidden)))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(float(dropout)))
            width = int(hidden)
        layers.append(nn.Linear(width, int(n_outputs)))
        self.layers = nn.Sequential(*layers)

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (classification) or the standardised prediction (regression)."""
        out: torch.Tensor = self.layers(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return logits (classification) or predictions in the target's unit (regression)."""
        out = self.raw(x)
        if self.target_std != 1.0 or self.target_mean != 0.0:
            out = out * self.target_std + self.target_mean
        return out

    def modelward_init_kwargs(self) -> dict[str, Any]:
        """Constructor arguments, for the registry's PyTorch flavor."""
        return dict(self.init_kwargs)
