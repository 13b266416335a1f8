"""The small part of the scikit-learn estimator contract our detectors share.

Constructors only store their keyword arguments under the same names; ``get_params`` and
``set_params`` read and write them (so ``sklearn.base.clone`` works); learned state is set by
``fit`` in attributes ending in ``_``.
"""

from __future__ import annotations

import inspect
from typing import Any, Self

from modelward.errors import InvalidInput

__all__ = ["Estimator"]


class Estimator:
    """Base class: parameter access and a readable ``repr``."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters; takes effect at the next ``fit``."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise InvalidInput(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"valid parameters: {', '.join(sorted(valid))}"
                )
            setattr(self, name, value)
        return self

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise InvalidInput(
                f"this {type(self).__name__} is not fitted yet; call fit(reference) first"
            )

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.kind is p.KEYWORD_ONLY
        }
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults.get(k))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b
