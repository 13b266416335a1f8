"""Dataset names and version references: ``wine``, ``wine@2``, ``wine@latest``."""

from __future__ import annotations

import re
from typing import Any

from modelward.errors import InvalidInput

__all__ = ["NAME_PATTERN", "check_dataset_name", "format_ref", "parse_ref", "parse_type"]

#: A dataset name: a letter or underscore, then letters, digits, ``_``, ``.`` or ``-``. Names
#: appear inside SQL (``SELECT … FROM wine@2``), so nothing else is allowed.
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}"
_NAME = re.compile(NAME_PATTERN)
_REF = re.compile(rf"({NAME_PATTERN})(?:@(latest|\d+))?")


def check_dataset_name(name: Any) -> str:
    """Return ``name`` if it is a valid dataset name, else raise :class:`InvalidInput`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid dataset name {name!r}: use a letter or _ then letters, digits, _ . or - "
            "(at most 128 characters), e.g. wine or sales_2024",
            details={"name": str(name)[:200]},
        )
    return name


def parse_ref(ref: Any) -> tuple[str, int | None]:
    """Split ``NAME[@N|@latest]`` into the name and the version number (``None``: newest)."""
    if not isinstance(ref, str):
        raise InvalidInput(f"a dataset reference is a string like wine@2, not {type(ref).__name__}")
    match = _REF.fullmatch(ref.strip())
    if match is None:
        raise InvalidInput(
            f"invalid dataset reference {ref!r}; write NAME, NAME@N or NAME@latest (e.g. wine@2)",
            details={"ref": ref[:200]},
        )
    number = match.group(2)
    if number is None or number == "latest":
        return match.group(1), None
    if int(number) < 1:
        raise InvalidInput(f"dataset versions are numbered from 1; {ref!r} names none")
    return match.group(1), int(number)


def format_ref(name: str, version: int) -> str:
    """Return ``name@version``."""
    return f"{name}@{version}"


_TYPE_WORDS = {
    "int": "int64",
    "integer": "int64",
    "float": "float64",
    "number": "float64",
    "double": "float64",
    "str": "string",
    "text": "string",
    "bool": "bool",
    "boolean": "bool",
    "date": "date32",
    "datetime": "timestamp[us]",
    "timestamp": "timestamp[us]",
}


def parse_type(text: Any) -> Any:
    """Return the Arrow type for a type word (``integer``, ``float``, ``string``, …) or name."""
    import pyarrow as pa

    if isinstance(text, pa.DataType):
        return text
    word = _TYPE_WORDS.get(str(text).strip().lower(), str(text).strip())
    try:
        return pa.type_for_alias(word)
    except ValueError:
        raise InvalidInput(
            f"unknown column type {text!r}; use integer, float, string, boolean, date, "
            "timestamp, or an Arrow type name such as int32 or timestamp[ms]"
        ) from None
