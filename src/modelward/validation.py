"""Checks for names and values that users pass in (keys, tags, params), with clear errors."""

from __future__ import annotations

import unicodedata
from typing import Any

from modelward.errors import InvalidInput

__all__ = ["MAX_KEY_LENGTH", "MAX_VALUE_LENGTH", "check_key", "check_value", "run_name"]

#: Longest key (param, tag or metric name) accepted.
MAX_KEY_LENGTH = 250
#: Longest param or tag value accepted; larger values belong in an artifact.
MAX_VALUE_LENGTH = 65_536


def check_key(key: Any, what: str, *, max_len: int = MAX_KEY_LENGTH) -> str:
    """Return ``key`` if it is a usable name, else raise :class:`InvalidInput`.

    A key is a non-empty string of at most ``max_len`` characters without control characters
    and without leading or trailing whitespace.
    """
    if not isinstance(key, str):
        raise InvalidInput(
            f"{what} must be a string, not {type(key).__name__} ({key!r}); convert it with str()",
            details={"what": what},
        )
    if not key:
        raise InvalidInput(f"{what} must not be empty")
    if len(key) > max_len:
        raise InvalidInput(
            f"{what} {key[:40]!r}… is {len(key)} characters; the limit is {max_len}",
            details={"what": what, "length": len(key)},
        )
    if key != key.strip():
        raise InvalidInput(f"{what} {key!r} has leading or trailing whitespace; strip it")
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        raise InvalidInput(f"{what} {key!r} contains control characters; remove them")
    return key


def check_value(value: Any, what: str) -> str:
    """Return ``value`` as a string (``str(value)``), rejecting oversized values."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_VALUE_LENGTH:
        raise InvalidInput(
            f"{what} is {len(text):,} characters; params and tags hold at most "
            f"{MAX_VALUE_LENGTH:,}. Log large values as an artifact instead "
            "(mw.log_text or mw.log_dict)",
            details={"what": what, "length": len(text), "limit": MAX_VALUE_LENGTH},
        )
    return text


_ADJECTIVES = (
    "amber",
    "bold",
    "brisk",
    "calm",
    "clever",
    "crisp",
    "dapper",
    "eager",
    "fair",
    "gentle",
    "glad",
    "grand",
    "keen",
    "lively",
    "lucid",
    "mellow",
    "nimble",
    "noble",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "sharp",
    "sleek",
    "smart",
    "steady",
    "sunny",
    "swift",
    "tidy",
    "vivid",
    "warm",
    "wise",
)
_NOUNS = (
    "badger",
    "beaver",
    "bison",
    "crane",
    "falcon",
    "ferret",
    "finch",
    "fox",
    "gecko",
    "heron",
    "ibis",
    "jackal",
    "koala",
    "lemur",
    "lynx",
    "marten",
    "moose",
    "newt",
    "otter",
    "owl",
    "panda",
    "puffin",
    "quail",
    "raven",
    "robin",
    "seal",
    "stoat",
    "swan",
    "tapir",
    "viper",
    "walrus",
    "yak",
)


def run_name(run_id: str) -> str:
    """Return a readable name derived from a run id, e.g. ``"swift-otter-417"``."""
    # The last characters are random (the first ones encode the creation time).
    n = int(run_id[-8:], 16)
    return f"{_ADJECTIVES[n % 32]}-{_NOUNS[(n >> 5) % 32]}-{(n >> 10) % 1000}"
