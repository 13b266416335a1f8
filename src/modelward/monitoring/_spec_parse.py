"""Parsing helpers of monitor definitions: durations and field checks with clear messages."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from modelward.errors import InvalidInput

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")


def parse_duration(value: Any, what: str) -> float:
    """Seconds from ``90``, ``"90s"``, ``"5m"``, ``"1h"``, ``"2d"``, ``"1w"`` or ``"500ms"``."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a duration like 30s, 5m, 1h or 1d, not {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise InvalidInput(f"{what} must be a duration like 30s, 5m, 1h or 1d, not {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidInput(f"{what} must be a non-negative duration, not {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact form: ``3600.0`` -> ``"1h"``, ``90.0`` -> ``"90s"``."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    return f"{round(seconds * 1000)}ms"


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} must be a mapping of settings, not {value!r}")
    return value


def _known(data: Mapping[str, Any], allowed: Sequence[str], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"{what} has unknown field(s) {', '.join(unknown)}; known fields: {', '.join(allowed)}"
        )


def _int(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{what} must be an integer of at least {minimum}, not {value!r}")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must be a non-empty string, not {value!r}")
    return value


def _names(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise InvalidInput(f"{what} must be a name or a list of names, not {value!r}")


def _toggle(value: Any, what: str) -> tuple[bool, dict[str, Any]]:
    """A check is ``true``/``false`` or a mapping of its settings (enabled unless it says)."""
    if value is None or value is True:
        return True, {}
    if value is False:
        return False, {}
    data = dict(_mapping(value, what))
    enabled = data.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidInput(f"{what}.enabled must be true or false, not {enabled!r}")
    return enabled, data


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"{what} must be a list, not {value!r}")
    return list(value)


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InvalidInput(f"{what} must be unique; {n!r} appears twice")
        seen.add(n)
