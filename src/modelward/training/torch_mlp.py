"""A PyTorch MLP with the scikit-learn estimator contract.

:class:`MLPClassifier` and :class:`MLPRegressor` take their hyperparameters in the constructor
and learn in ``fit``, so they fit in pipelines, cross-validation, searches (``clone``) and warm
starts like any scikit-learn estimator. They train :class:`~modelward.training.torch_net.MLPNet`
with Adam (weight decay as L2 regularisation), dropout and batch normalisation, and stop early
when the loss on a held-out part of the training data stops improving (restoring the best
weights). They use the GPU when ``torch.cuda.is_available()`` (``device="auto"``), else the CPU;
``device_`` records which.

Saving: ``__getstate__`` turns the network into NumPy arrays plus its constructor arguments, so
a pipeline holding the MLP is saved by the scikit-learn flavor (skops, no pickle) with the
preparation steps; ``to_torch()`` returns the bare ``nn.Module`` for the PyTorch flavor.
torch is imported only when a model is fitted or loaded.
"""

from __future__ import annotations

import abc
import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from modelward.errors import MissingDependency

__all__ = ["MLPClassifier", "MLPRegressor", "resolve_device"]


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependency(
            "the MLP needs PyTorch; install it with: pip install 'modelward[torch]'",
            details={"module": "torch", "extra": "torch"},
        ) from exc
    return torch


def resolve_device(device: str) -> str:
    """``auto`` becomes ``cuda`` when a GPU is usable, else ``cpu``; others pass through."""
    if device != "auto":
        return device
    return "cuda" if _torch().cuda.is_available() else "cpu"


class _BaseMLP(BaseEstimator, abc.ABC):  # type: ignore[misc]
    """Shared training loop; see :class:`MLPClassifier` for the parameters."""

    _classifier = False

    def __init__(
        self,
        hidden_layers: Sequence[int] = (64,),
        dropout: float = 0.0,
        batch_norm: bool = False,
        activation: str = "relu",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 32,
        max_epochs: int = 200,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        tol: float = 1e-4,
        device: str = "auto",
        random_state: int | None = None,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layers = hidden_layers
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.activation = activation
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.warm_start = warm_start

    # -- checks ------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), not {self.dropout}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, not {self.learning_rate}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, not {self.weight_decay}")
        if self.batch_size < 1 or self.max_epochs < 1:
            raise ValueError("batch_size and max_epochs must be at least 1")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1), not {self.validation_fraction}"
            )
        if any(int(h) < 1 for h in self.hidden_layers):
            raise ValueError(f"hidden_layers must be positive widths, not {self.hidden_layers}")

    @abc.abstractmethod
    def _targets(self, y: Any, *, first: bool, classes: Any = None) -> np.ndarray:
        """Encode ``y`` for the network (``first``: the first fit, learning the classes)."""

    @abc.abstractmethod
    def _n_outputs(self) -> int:
        """Width of the network's output layer."""

    def _net_kwargs(self) -> dict[str, Any]:
        return {
            "n_features": self.n_features_in_,
            "n_outputs": self._n_outputs(),
            "hidden_layers": [int(h) for h in self.hidden_layers],
            "dropout": float(self.dropout),
            "batch_norm": bool(self.batch_norm),
            "activation": self.activation,
        }

    def _build(self) -> None:
        torch = _torch()
        from modelward.training.torch_net import MLPNet

        self.device_ = resolve_device(self.device)
        self.module_ = MLPNet(**self._net_kwargs()).to(self.device_)
        self.optimizer_ = torch.optim.AdamW(
            self.module_.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] = []
        self.n_epochs_ = 0

    def _loss(self, out: Any, target: Any) -> Any:
        torch = _torch()
        if self._classifier:
            return torch.nn.functional.cross_entropy(out, target)
        return torch.nn.functional.mse_loss(out.squeeze(-1), target)

    # -- training ----------------------------------------------------------------------------
    def _epoch(self, x: Any, t: Any, generator: Any) -> float:
        torch = _torch()
        module = self.module_
        module.train()
        order = torch.randperm(len(x), generator=generator).to(self.device_)
        total, seen = 0.0, 0
        for start in range(0, len(x), int(self.batch_size)):
            idx = order[start : start + int(self.batch_size)]
            if len(idx) < 2 and self.batch_norm:
                continue  # batch norm cannot normalise a single row
            self.optimizer_.zero_grad()
            loss = self._loss(module.raw(x[idx]), t[idx])
            loss.backward()
            self.optimizer_.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        self.n_epochs_ += 1
        return total / max(seen, 1)

    def _eval_loss(self, x: Any, t: Any) -> float:
        torch = _torch()
        self.module_.eval()
        with torch.no_grad():
            return float(self._loss(self.module_.raw(x), t))

    def _tensors(self, x: np.ndarray, t: np.ndarray) -> tuple[Any, Any]:
        torch = _torch()
        tx = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32), device=self.device_)
        dtype = torch.long if self._classifier else torch.float32
        tt = torch.as_tensor(t, dtype=dtype, device=self.device_)
        return tx, tt

    def fit(self, X: Any, y: Any) -> _BaseMLP:  # noqa: N803 - scikit-learn naming
        """Train for up to ``max_epochs``, stopping early when validation loss stalls."""
        torch = _torch()
        self._check_params()
        keep = self.warm_start and hasattr(self, "module_")
        x = validate_data(self, X, dtype=np.float32, reset=not keep)
        t = self._targets(y, first=not keep)
        with torch.random.fork_rng(devices=[]):
            seed = 0 if self.random_state is None else int(self.random_state)
            torch.manual_seed(seed)
            if not keep:
                self._build()  # after seeding: the initial weights are part of the result
            generator = torch.Generator().manual_seed(seed)
            x_fit, t_fit, x_val, t_val = self._holdout(x, t, seed)
            tx, tt = self._tensors(x_fit, t_fit)
            vx, vt = (
                self._tensors(x_val, t_val)
                if x_val is not None and t_val is not None
                else (None, None)
            )
            best, best_state, stale = math.inf, None, 0
            for _ in range(int(self.max_epochs)):
                self.loss_curve_.append(self._epoch(tx, tt, generator))
                if vx is None:
                    continue
                score = self._eval_loss(vx, vt)
                self.validation_scores_.append(score)
                if score < best - self.tol:
                    best, stale = score, 0
                    best_state = copy.deepcopy(self.module_.state_dict())
                else:
                    stale += 1
                    if stale >= self.patience:
                        break
            if best_state is not None:
                self.module_.load_state_dict(best_state)
        self.module_.eval()
        return self

    def _holdout(
        self, x: np.ndarray, t: np.ndarray, seed: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        n_val = round(len(x) * self.validation_fraction)
        if not self.early_stopping or n_val < 2 or len(x) - n_val < 2:
            return x, t, None, None
        order = np.random.default_rng(seed).permutation(len(x))
        val, fit = order[:n_val], order[n_val:]
        return x[fit], t[fit], x[val], t[val]

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> _BaseMLP:  # noqa: N803
        """One more epoch over ``X`` (building the network on the first call)."""
        torch = _torch()
        first = not hasattr(self, "module_")
        if first:
            self._check_params()
        x = validate_data(self, X, dtype=np.float32, reset=first)
        t = self._targets(y, first=first, classes=classes)
        with torch.random.fork_rng(devices=[]):
            base = 0 if self.random_state is None else int(self.random_state)
            torch.manual_seed(base)
            if first:
                self._build()
            seed = base + self.n_epochs_
            torch.manual_seed(seed)
            tx, tt = self._tensors(x, t)
            self.loss_curve_.append(self._epoch(tx, tt, torch.Generator().manual_seed(seed)))
        self.module_.eval()
        return self

    def _forward(self, X: Any) -> np.ndarray:  # noqa: N803
        torch = _torch()
        check_is_fitted(self, "module_")
        x = validate_data(self, X, dtype=np.float32, reset=False)
        self.module_.eval()
        with torch.no_grad():
            tx = torch.as_tensor(np.ascontiguousarray(x), device=self.device_)
            return np.asarray(self.module_(tx).detach().cpu().numpy())

    def to_torch(self) -> Any:
        """The fitted ``nn.Module`` (``MLPNet``), for the registry's PyTorch flavor."""
        check_is_fitted(self, "module_")
        return self.module_

    # -- saving without pickle -----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        module = state.pop("module_", None)
        state.pop("optimizer_", None)  # an optimizer restarts on warm start; not saved
        if module is not None:
            state["_net_kwargs"] = module.modelward_init_kwargs()
            state["_net_state"] = {
                k: v.detach().cpu().numpy() for k, v in module.state_dict().items()
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        kwargs = state.pop("_net_kwargs", None)
        weights = state.pop("_net_state", None)
        super().__setstate__(state)
        if kwargs is not None and weights is not None:
            torch = _torch()
            from modelward.training.torch_net import MLPNet

            self.device_ = resolve_device(self.device)
            module = MLPNet(**kwargs)
            module.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in weights.items()})
            self.module_ = module.to(self.device_).eval()
            self.optimizer_ = torch.optim.AdamW(
                module.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
            )


class MLPClassifier(ClassifierMixin, _BaseMLP):  # type: ignore[misc]
    """A PyTorch MLP classifier with the scikit-learn contract.

    Args:
        hidden_layers: Width of each hidden layer.
        dropout: Dropout probability after each hidden layer.
        batch_norm: Batch normalisation after each hidden linear layer.
        activation: ``relu``, ``tanh``, ``gelu`` or ``leaky_relu``.
        learning_rate: Adam's step size.
        weight_decay: Decoupled weight decay (L2 regularisation) of AdamW.
        batch_size: Rows per gradient step.
        max_epochs: Most passes over the data in ``fit``.
        early_stopping: Hold out ``validation_fraction`` of the rows and stop when their loss
            has not improved by ``tol`` for ``patience`` epochs; keep the best weights.
        validation_fraction: Share of rows held out for early stopping.
        patience: Epochs without improvement before stopping.
        tol: Smallest improvement that counts.
        device: ``auto`` (GPU when available), ``cpu`` or ``cuda[:N]``.
        random_state: Seed of initialisation, shuffling and dropout.
        warm_start: ``fit`` continues from the current weights (further epochs).

    Attributes:
        classes_: Class labels.
        device_: Device used.
        loss_curve_: Training loss per epoch.
        validation_scores_: Held-out loss per epoch (early stopping).
        n_epochs_: Epochs trained.
    """

    _classifier = True

    def _targets(self, y: Any, *, first: bool, classes: Any = None) -> np.ndarray:
        y = np.asarray(y)
        if first:
            labels = np.unique(y) if classes is None else np.asarray(classes)
            if len(labels) < 2:
                raise ValueError(
                    f"MLPClassifier needs at least 2 classes in the target, got {len(labels)}"
                )
            self.classes_ = labels
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, len(self.classes_) - 1)
        if not np.array_equal(self.classes_[index], y):
            unknown = sorted(set(y.tolist()) - set(self.classes_.tolist()))
            raise ValueError(f"y holds classes {unknown[:5]} not seen in the first fit")
        return np.asarray(index, dtype=np.int64)

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _net_kwargs(self) -> dict[str, Any]:
        kwargs = super()._net_kwargs()
        kwargs["classes"] = [c.item() if hasattr(c, "item") else c for c in self.classes_]
        return kwargs

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        """Class probabilities, columns in ``classes_`` order."""
        logits = self._forward(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """The most probable class of each row."""
        return np.asarray(self.classes_[np.argmax(self._forward(X), axis=1)])


class MLPRegressor(RegressorMixin, _BaseMLP):  # type: ignore[misc]
    """A PyTorch MLP regressor with the scikit-learn contract.

    Same parameters as :class:`MLPClassifier`. The target is standardised for training and
    the network returns predictions in the target's unit.
    """

    def _targets(self, y: Any, *, first: bool, classes: Any = None) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if first:
            self.target_mean_ = float(y.mean())
            std = float(y.std())
            self.target_std_ = std if std > 0 else 1.0
        return np.asarray((y - self.target_mean_) / self.target_std_, dtype=np.float32)

    def _n_outputs(self) -> int:
        return 1

    def _net_kwargs(self) -> dict[str, Any]:
        kwargs = super()._net_kwargs()
        kwargs["target_mean"] = self.target_mean_
        kwargs["target_std"] = self.target_std_
        return kwargs

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """Predictions in the target's unit."""
        return np.asarray(self._forward(X)[:, 0], dtype=np.float64)
