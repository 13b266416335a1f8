"""Formatting helpers for people: times, durations, numbers."""

from __future__ import annotations

import datetime as dt
import math

__all__ = ["fmt_duration", "fmt_number", "fmt_time"]


def fmt_time(ms: int | None) -> str:
    """Local wall-clock time of a ms timestamp, or ``-``."""
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(start: int | None, end: int | None) -> str:
    """Human duration between two ms timestamps (``-`` while unknown)."""
    if start is None or end is None:
        return "-"
    seconds = max(0.0, (end - start) / 1000)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def fmt_number(value: float) -> str:
    """Compact number: 4 significant digits, NaN/inf spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"
