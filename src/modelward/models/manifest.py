"""The model manifest: one JSON file that describes and seals a model directory.

A model directory holds ``MANIFEST_FILE`` plus the flavor's files. The manifest lists every
other file with its sha256 and size; :func:`verify_directory` refuses a directory where a
file changed, went missing or was added, and :func:`read_manifest` refuses a manifest written
by a newer, incompatible format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelward.entities.models import ModelManifest
from modelward.errors import IntegrityError, InvalidInput, NotFound

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "digest_files",
    "manifest_bytes",
    "parse_manifest",
    "read_manifest",
    "verify_directory",
]

#: Name of the manifest inside a model directory.
MANIFEST_FILE = "modelward-model.json"
#: On-disk format written by this modelward. A loader accepts any version up to its own;
#: a newer one may hold what this code cannot check, so it is refused.
FORMAT_VERSION = 1

_CHUNK = 1024 * 1024


def sha256_path(path: Path) -> tuple[str, int]:
    """Return the sha256 hex digest and size of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)


def digest_files(root: Path) -> dict[str, dict[str, Any]]:
    """Return ``{relative posix path: {"sha256", "size"}}`` for every file under ``root``."""
    found: dict[str, dict[str, Any]] = {}
    for path in _files_under(root):
        if path.is_symlink():
            raise InvalidInput(
                f"{path} is a symbolic link; model directories hold plain files only"
            )
        digest, size = sha256_path(path)
        found[path.relative_to(root).as_posix()] = {"sha256": digest, "size": size}
    return found


def manifest_bytes(manifest: ModelManifest) -> bytes:
    """Serialise a manifest canonically (sorted keys), so its digest is stable."""
    return json.dumps(manifest.to_dict(), indent=2, sort_keys=True, default=str).encode("utf-8")


def parse_manifest(data: bytes, where: str) -> ModelManifest:
    """Parse and check manifest bytes read from ``where`` (named in errors)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntegrityError(
            f"the model manifest at {where} is not valid JSON ({exc}); the model is damaged, "
            "log it again"
        ) from exc
    if not isinstance(doc, Mapping) or "format_version" not in doc or "flavor" not in doc:
        raise IntegrityError(
            f"{where} is not a modelward model manifest (no format_version/flavor); "
            "log the model again with mw.log_model"
        )
    version = doc["format_version"]
    if not isinstance(version, int) or version < 1:
        raise IntegrityError(f"the model manifest at {where} has an invalid format_version")
    if version > FORMAT_VERSION:
        raise InvalidInput(
            f"the model at {where} was saved in model format {version}, newer than this "
            f"modelward reads ({FORMAT_VERSION}); upgrade modelward to load it",
            details={"format_version": version, "supported": FORMAT_VERSION},
        )
    try:
        return ModelManifest.from_dict(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(
            f"the model manifest at {where} is incomplete ({exc}); log the model again"
        ) from exc


def read_manifest(root: Path) -> ModelManifest:
    """Read the manifest of a local model directory."""
    path = root / MANIFEST_FILE
    if not path.is_file():
        if not root.exists():
            raise NotFound(f"no model directory at {root}", details={"path": str(root)})
        raise NotFound(
            f"{root} has no {MANIFEST_FILE}: it is not a modelward model (or its manifest was "
            "lost); save models with mw.log_model or modelward.models.save_model",
            details={"path": str(root)},
        )
    return parse_manifest(path.read_bytes(), str(path))


def verify_directory(root: Path, manifest: ModelManifest) -> None:
    """Check every file against the manifest; raise IntegrityError naming the first problems.

    A changed byte, a missing file and an unlisted extra file all fail: an extra file could be
    imported by code that the manifest does not vouch for.
    """
    listed = dict(manifest.files)
    present = {p.relative_to(root).as_posix(): p for p in _files_under(root)}
    problems: list[str] = []
    for rel, info in listed.items():
        path = present.get(rel)
        if path is None:
            problems.append(f"{rel} is missing")
            continue
        digest, size = sha256_path(path)
        if digest != info.get("sha256") or size != info.get("size"):
            problems.append(
                f"{rel} changed (sha256 {digest[:12]}…, expected {str(info.get('sha256'))[:12]}…)"
            )
    problems.extend(f"{rel} is not listed in the manifest" for rel in present if rel not in listed)
    if problems:
        raise IntegrityError(
            f"the model at {root} failed its integrity check: {'; '.join(problems[:5])}"
            + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
            + ". Nothing was loaded; restore the files or log the model again",
            details={"path": str(root), "problems": problems},
        )
