"""Entities shared by every aggregate: pages of results and time helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Page", "now_ms"]

T = TypeVar("T")


def now_ms() -> int:
    """Return the current time as integer milliseconds since the Unix epoch (UTC)."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results.

    Attributes:
        items: The results on this page, in the requested order.
        next_token: Opaque token for the next page, or ``None`` when this is the last page.
    """

    items: Sequence[T]
    next_token: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
