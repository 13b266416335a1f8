"""Checks for the names users give artifacts: logical paths and the scopes that own them.

A logical path is a relative POSIX path (``model/weights.bin``). It must stay inside its
scope and, once downloaded, inside the destination folder on every platform, so anything that
could climb out (``..``, absolute paths, drive letters, backslashes) or confuse a file system
(empty names, control characters) is refused here, before it reaches a store.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from modelward.errors import InvalidInput, PermissionDenied

__all__ = [
    "MAX_PATH_LENGTH",
    "MAX_SCOPE_LENGTH",
    "check_scope",
    "normalize_artifact_path",
    "normalize_artifact_prefix",
]

#: Longest logical path accepted (the metadata store's column width).
MAX_PATH_LENGTH = 1024
#: Longest scope accepted (the metadata store's column width).
MAX_SCOPE_LENGTH = 200
#: Longest single name in a path, in UTF-8 bytes (what common file systems allow).
MAX_NAME_BYTES = 255

_DRIVE = re.compile(r"[A-Za-z]:")
_SCOPE = re.compile(r"[a-z][a-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)+")


def _check_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(
            f"{what} must be a string, not {type(value).__name__} ({value!r})",
            details={"what": what},
        )
    bad = next((ch for ch in value if unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        raise InvalidInput(
            f"{what} {value!r} contains the control character {bad!r}; remove it",
            details={"what": what},
        )
    return value


def normalize_artifact_path(path: Any) -> str:
    """Return ``path`` as a canonical logical path, or raise if it is unsafe or malformed.

    ``.`` segments are dropped (``./model/./a.txt`` becomes ``model/a.txt``); everything
    else that is not a plain relative name is refused.

    Raises:
        PermissionDenied: For paths that would leave their root: absolute paths (``/etc``,
            ``C:``), ``..`` segments.
        InvalidInput: For non-strings, empty paths or names (``a//b``, a trailing ``/``),
            backslashes, control characters (NUL included) and over-long paths.
    """
    text = _check_text(path, "artifact path")
    if not text:
        raise InvalidInput(
            "the artifact path is empty; give a relative path such as 'model/model.skops'"
        )
    if "\\" in text:
        raise InvalidInput(
            f"artifact path {text!r} contains a backslash; separate folders with '/'",
            details={"path": text},
        )
    if text.startswith("/") or _DRIVE.match(text):
        raise PermissionDenied(
            f"artifact path {text!r} is absolute; artifact paths are relative to their run, "
            "dataset or model (e.g. 'model/model.skops')",
            details={"path": text},
        )
    parts = text.split("/")
    if ".." in parts:
        raise PermissionDenied(
            f"artifact path {text!r} contains '..'; artifact paths may not leave their root",
            details={"path": text},
        )
    if "" in parts:
        raise InvalidInput(
            f"artifact path {text!r} has an empty name (a doubled, leading or trailing '/')",
            details={"path": text},
        )
    parts = [p for p in parts if p != "."]
    if not parts:
        raise InvalidInput(f"artifact path {text!r} names no file; give a file name")
    for part in parts:
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            raise InvalidInput(
                f"the name {part[:40]!r}… in an artifact path is longer than "
                f"{MAX_NAME_BYTES} bytes; shorten it",
                details={"path": text},
            )
    normal = "/".join(parts)
    if len(normal) > MAX_PATH_LENGTH:
        raise InvalidInput(
            f"artifact path {normal[:40]!r}… is {len(normal)} characters; "
            f"the limit is {MAX_PATH_LENGTH}",
            details={"length": len(normal)},
        )
    return normal


def normalize_artifact_prefix(path: Any) -> str:
    """Like :func:`normalize_artifact_path`, but ``""`` (everything) and a trailing ``/`` pass.

    Used where a path names a file *or* a folder (listing, downloading, deleting).
    """
    text = _check_text(path, "artifact path")
    if text in {"", ".", "./"}:
        return ""
    return normalize_artifact_path(text[:-1] if text.endswith("/") else text)


def check_scope(scope: Any) -> str:
    """Return ``scope`` if it names an owner of artifacts, e.g. ``runs/<run id>``.

    A scope is a lower-case kind (``runs``, ``datasets``, ``models``, …) followed by one or
    more ``/``-separated names of letters, digits, ``.``, ``_`` and ``-`` that start with a
    letter or digit.

    Raises:
        InvalidInput: For anything else.
    """
    text = _check_text(scope, "artifact scope")
    if len(text) > MAX_SCOPE_LENGTH or not _SCOPE.fullmatch(text):
        raise InvalidInput(
            f"artifact scope {text[:80]!r} is malformed; a scope looks like 'runs/<run id>', "
            f"'datasets/<id>' or 'models/<id>' (at most {MAX_SCOPE_LENGTH} characters)",
            details={"scope": text[:MAX_SCOPE_LENGTH]},
        )
    return text
