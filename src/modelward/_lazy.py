"""Looking at optional modules without importing them."""

from __future__ import annotations

import sys
from types import ModuleType

__all__ = ["loaded_module"]


def loaded_module(name: str) -> ModuleType | None:
    """Return ``name`` if it is imported *and fully initialised*, else ``None``; never imports.

    ``sys.modules`` holds a module from the moment its import starts. When another thread is
    still executing it (modelward preloads heavy modules in the background while a search runs),
    ``sys.modules.get`` returns a half-built module whose attributes are missing. Python marks
    such a module with ``__spec__._initializing`` — the flag importlib itself checks — so this
    treats it as not loaded yet. Code that needs the module should then ``import`` it, which
    waits for the other thread's import to finish.
    """
    module = sys.modules.get(name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        return None
    return module
