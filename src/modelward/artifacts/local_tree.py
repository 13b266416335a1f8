"""Listing the files of a local folder for logging, without leaving it through symlinks."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from modelward.errors import InvalidInput, NotFound, PermissionDenied
from modelward.store.artifacts.streams import local_os_errors

__all__ = ["LocalFile", "collect_files"]


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file found under a folder.

    Attributes:
        relative: Its path below the folder, ``/``-separated, as the user sees it.
        real: The file to read (symlinks resolved; always inside the folder).
    """

    relative: str
    real: Path


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def collect_files(folder: Path) -> list[LocalFile]:
    """Return every regular file below ``folder``, sorted by relative path.

    Symlinks are followed only while they stay inside ``folder``; a symlink to anything
    outside it is refused, so logging a folder never uploads files the caller did not put
    there. Empty folders contribute nothing.

    Raises:
        NotFound: ``folder`` does not exist.
        InvalidInput: ``folder`` is not a directory, a symlink is dangling or loops, or an
            entry is neither a file nor a directory (a FIFO, a socket, a device).
        PermissionDenied: A symlink points outside ``folder``.
    """
    folder = Path(folder)
    with local_os_errors("source", folder, "reading"):
        if not folder.exists():
            raise NotFound(f"no such folder {folder}", details={"path": str(folder)})
        if not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder; log a single file with log_file")
        root = folder.resolve(strict=True)
        found: list[LocalFile] = []
        # (real directory, its relative path) still to visit.
        stack: list[tuple[Path, str]] = [(root, "")]
        while stack:
            directory, rel_dir = stack.pop()
            with os.scandir(directory) as entries:
                items = sorted(entries, key=lambda e: e.name)
            for entry in items:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                real = Path(entry.path)
                if entry.is_symlink():
                    real = _follow(real, rel, root, directory, folder)
                mode = real.stat().st_mode
                if stat.S_ISDIR(mode):
                    stack.append((real, rel))
                elif stat.S_ISREG(mode):
                    found.append(LocalFile(rel, real))
                else:
                    raise InvalidInput(
                        f"{folder / rel} is neither a file nor a folder (a FIFO, socket or "
                        "device); remove it or log the files one by one",
                        details={"path": rel},
                    )
    return sorted(found, key=lambda f: f.relative)


def _follow(link: Path, rel: str, root: Path, directory: Path, folder: Path) -> Path:
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        raise InvalidInput(
            f"{folder / rel} is a dangling symlink ({os.readlink(link)!r}); fix or remove it",
            details={"path": rel},
        ) from None
    except RuntimeError as exc:  # symlink loop, on Python < 3.13
        raise InvalidInput(
            f"{folder / rel} is a symlink loop; remove it", details={"path": rel}
        ) from exc
    if not _inside(target, root):
        raise PermissionDenied(
            f"{folder / rel} is a symlink to {target}, outside {folder}; copy the file into "
            "the folder or log it separately with log_file",
            details={"path": rel, "target": str(target)},
        )
    if target.is_dir() and _inside(directory, target):
        raise InvalidInput(
            f"{folder / rel} is a symlink to one of its own parent folders, which would "
            "repeat forever; remove it",
            details={"path": rel},
        )
    return target
