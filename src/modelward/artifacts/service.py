"""The artifact service: logical files of runs, datasets and models, stored as blobs.

An artifact is a path inside a *scope* (``runs/<run id>``, ``datasets/<id>``,
``models/<id>``) that names a content-addressed blob. Bytes go to the
:class:`~modelward.store.artifacts.base.ArtifactStore` first; the index entries (in the
metadata store) are written only once every blob is stored, so an entry never names a blob
that is not there. Reads verify every byte against its sha256.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from modelward.artifacts.local_tree import collect_files
from modelward.artifacts.paths import (
    check_scope,
    normalize_artifact_path,
    normalize_artifact_prefix,
)
from modelward.entities import ArtifactEntry, Blob, now_ms
from modelward.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from modelward.store.artifacts.base import ArtifactStore
from modelward.store.artifacts.streams import local_os_errors
from modelward.store.metadata.artifact_index import ArtifactIndexStore

__all__ = ["ArtifactService"]

logger = logging.getLogger(__name__)

#: Blobs stored at once by :meth:`ArtifactService.log_dir` (stores are thread-safe).
_UPLOAD_WORKERS = 4


def _ancestors(path: str) -> list[str]:
    """``"a/b/c"`` -> ``["a", "a/b"]``."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _join(base: str, rel: str) -> str:
    return f"{base}/{rel}" if base else rel


class ArtifactService:
    """Log, list, read, download and delete the artifacts of runs, datasets and models.

    Args:
        index: Where logical paths are recorded (the metadata store).
        blobs: Where the bytes live (local disk or S3).

    Paths are relative POSIX paths checked by
    :func:`~modelward.artifacts.paths.normalize_artifact_path`. A path is a file or a folder,
    never both: logging ``a/b`` when ``a`` is a file raises
    :class:`~modelward.errors.Conflict`, so every scope downloads as a valid folder tree.
    """

    def __init__(self, index: ArtifactIndexStore, blobs: ArtifactStore) -> None:
        self.index = index
        self.blobs = blobs

    # -- logging ------------------------------------------------------------------------

    def log_file(
        self, scope: str, local_path: Path | str, artifact_path: str | None = None
    ) -> ArtifactEntry:
        """Store one local file as an artifact.

        Args:
            scope: Owner, e.g. ``runs/<run id>``.
            local_path: The file to store (streamed; any size).
            artifact_path: Full logical path of the file (``"model/weights.bin"``); default:
                the file's name at the top of the scope.

        Returns:
            The entry written to the index.
        """
        scope = check_scope(scope)
        local_path = Path(local_path)
        path = normalize_artifact_path(local_path.name if artifact_path is None else artifact_path)
        with local_os_errors("source", local_path, "reading"):
            if local_path.is_dir():
                raise InvalidInput(f"{local_path} is a folder; log it with log_dir")
        replaced = self._check_tree(scope, "", {path})
        return self._record(scope, [(path, self.blobs.put_file(local_path))], replaced)[0]

    def log_dir(
        self, scope: str, local_dir: Path | str, artifact_path: str | None = None
    ) -> builtins.list[ArtifactEntry]:
        """Store every file below a local folder, keeping its layout.

        Symlinks are followed while they stay inside ``local_dir``; one pointing outside is
        refused with :class:`~modelward.errors.PermissionDenied` before anything is stored.
        All blobs are stored first, then all index entries are written in one call.

        Args:
            scope: Owner, e.g. ``runs/<run id>``.
            local_dir: The folder to store.
            artifact_path: Logical folder to put the files under; default: the top of the scope.

        Returns:
            The entries written, sorted by path (empty for a folder without files).
        """
        scope = check_scope(scope)
        base = normalize_artifact_prefix("" if artifact_path is None else artifact_path)
        files = collect_files(Path(local_dir))
        paths = [normalize_artifact_path(_join(base, f.relative)) for f in files]
        if not files:
            logger.debug("log_dir: %s holds no files; nothing logged", local_dir)
            return []
        replaced = self._check_tree(scope, base, set(paths))
        workers = min(_UPLOAD_WORKERS, len(files))
        with ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="modelward-artifacts"
        ) as pool:
            blobs = list(pool.map(self.blobs.put_file, (f.real for f in files)))
        return self._record(scope, list(zip(paths, blobs, strict=True)), replaced)

    def log_bytes(
        self, scope: str, data: bytes | bytearray | memoryview, artifact_path: str
    ) -> ArtifactEntry:
        """Store a byte string as the artifact ``artifact_path``."""
        scope = check_scope(scope)
        path = normalize_artifact_path(artifact_path)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInput(
                f"log_bytes takes bytes, not {type(data).__name__}; use log_text for str or "
                "log_json for dicts"
            )
        replaced = self._check_tree(scope, "", {path})
        return self._record(scope, [(path, self.blobs.put_bytes(bytes(data)))], replaced)[0]

    def log_text(
        self, scope: str, text: str, artifact_path: str, *, encoding: str = "utf-8"
    ) -> ArtifactEntry:
        """Store a string (encoded, UTF-8 by default) as the artifact ``artifact_path``."""
        if not isinstance(text, str):
            raise InvalidInput(f"log_text takes a str, not {type(text).__name__}")
        return self.log_bytes(scope, text.encode(encoding), artifact_path)

    def log_json(self, scope: str, obj: Any, artifact_path: str) -> ArtifactEntry:
        """Store a JSON-serialisable value (a dict, typically) as indented JSON.

        Raises:
            InvalidInput: The value cannot be written as standard JSON (NaN and infinity
                included, which JSON has no spelling for).
        """
        try:
            text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"cannot write {artifact_path!r} as JSON: {exc}; convert the value to plain "
                "dicts, lists, strings, numbers, booleans and None (NaN and infinity are not JSON)"
            ) from exc
        return self.log_bytes(scope, (text + "\n").encode("utf-8"), artifact_path)

    # -- reading ------------------------------------------------------------------------

    def list(self, scope: str, path: str = "") -> builtins.list[ArtifactEntry]:
        """Return the file at ``path``, or every file below the folder ``path``, sorted.

        ``""`` lists the whole scope. A path that names nothing gives ``[]``.
        """
        scope = check_scope(scope)
        prefix = normalize_artifact_prefix(path)
        return self._entries(scope, prefix)

    def open(self, scope: str, path: str) -> BinaryIO:
        """Open a file artifact for streamed reading; reading to the end verifies its digest.

        Raises:
            NotFound: No file at ``path`` (or it is a folder).
            IntegrityError: At the end of the stream, if the stored bytes were damaged.
        """
        entry = self._file_entry(check_scope(scope), normalize_artifact_path(path))
        with self._blob_errors(entry):
            return self.blobs.open(entry.digest)

    def read_bytes(self, scope: str, path: str) -> bytes:
        """Return a (small) file artifact's bytes, verified."""
        with self.open(scope, path) as f:
            return f.read()

    def download(self, scope: str, path: str, dest_dir: Path | str) -> Path:
        """Download a file or a folder tree below ``dest_dir``, keeping its logical path.

        ``download("runs/1", "model", "out")`` writes ``out/model/…`` and returns
        ``out/model``; ``path=""`` downloads the whole scope into ``dest_dir``. Every file is
        verified and written atomically; if any fails, the files this call created are
        removed. Nothing is ever written outside ``dest_dir``, even through symlinks in it.

        Raises:
            NotFound: Nothing at ``path``.
            PermissionDenied: A folder inside ``dest_dir`` is a symlink leading outside it.
            IntegrityError: A stored blob was damaged.
        """
        scope = check_scope(scope)
        prefix = normalize_artifact_prefix(path)
        entries = self._entries(scope, prefix)
        if not entries:
            raise NotFound(
                f"no artifact {prefix!r} in {scope}" if prefix else f"{scope} has no artifacts",
                details={"scope": scope, "path": prefix},
            )
        dest_dir = Path(dest_dir)
        with local_os_errors("destination", dest_dir, "creating"):
            dest_dir.mkdir(parents=True, exist_ok=True)
            root = dest_dir.resolve(strict=True)
        created_files: list[Path] = []
        created_dirs: list[Path] = []
        try:
            for entry in entries:
                target = root / normalize_artifact_path(entry.path)
                self._make_parent(root, target, created_dirs)
                existed = target.exists() or target.is_symlink()
                with self._blob_errors(entry):
                    self.blobs.download(entry.digest, target)
                if not existed:
                    created_files.append(target)
        except BaseException:
            for file in created_files:
                with contextlib.suppress(OSError):
                    file.unlink()
            for directory in reversed(created_dirs):
                with contextlib.suppress(OSError):
                    directory.rmdir()
            raise
        return dest_dir / prefix if prefix else dest_dir

    # -- deleting -----------------------------------------------------------------------

    def delete(self, scope: str, prefix: str = "") -> int:
        """Delete the file or folder ``prefix`` (``""``: the whole scope) from the index.

        Blobs that no other entry (in any scope) names any more are removed from the store.
        Deleting something absent is not an error.

        Returns:
            How many entries were removed.
        """
        scope = check_scope(scope)
        path = normalize_artifact_prefix(prefix)
        entries = self._entries(scope, path)
        if not entries:
            return 0
        if not path:
            removed = self.index.delete_artifact_entries(scope)
        elif len(entries) == 1 and entries[0].path == path:
            removed = int(self.index.delete_artifact_entry(scope, path))
        else:
            removed = self.index.delete_artifact_entries(scope, path + "/")
        self._collect({e.digest for e in entries})
        return removed

    # -- internals ----------------------------------------------------------------------

    def _entries(self, scope: str, prefix: str) -> builtins.list[ArtifactEntry]:
        if not prefix:
            return self.index.list_artifact_entries(scope)
        under = self.index.list_artifact_entries(scope, prefix + "/")
        if under:
            return under
        try:
            return [self.index.get_artifact_entry(scope, prefix)]
        except NotFound:
            return []

    def _file_entry(self, scope: str, path: str) -> ArtifactEntry:
        try:
            return self.index.get_artifact_entry(scope, path)
        except NotFound:
            if self.index.list_artifact_entries(scope, path + "/"):
                raise NotFound(
                    f"{path!r} in {scope} is a folder, not a file; list it or download it",
                    details={"scope": scope, "path": path},
                ) from None
            raise

    @contextlib.contextmanager
    def _blob_errors(self, entry: ArtifactEntry) -> Any:
        try:
            yield
        except NotFound as exc:
            raise NotFound(
                f"artifact {entry.path!r} in {entry.scope} names blob {entry.digest}, which is "
                f"missing from the artifact store {self.blobs.uri}; log it again, or check that "
                "the store location (setting `artifacts`) is the one it was logged to",
                details={"scope": entry.scope, "path": entry.path, "digest": entry.digest},
            ) from exc

    def _check_tree(self, scope: str, base: str, new: set[str]) -> dict[str, str]:
        """Refuse a file where a folder is (or the reverse); return digests about to be replaced.

        ``new`` are the paths about to be written, all below the folder ``base`` (``""``: the
        top of the scope). One listing covers the region they land in; the folders above it
        are checked one by one.
        """
        if len(new) == 1 and not base:
            (only,) = new
            above = _ancestors(only)
            listed = self.index.list_artifact_entries(scope, only + "/")
            with contextlib.suppress(NotFound):
                listed.append(self.index.get_artifact_entry(scope, only))
        else:
            above = [*_ancestors(base), base] if base else []
            listed = self.index.list_artifact_entries(scope, base + "/" if base else "")
        for folder in above:
            try:
                self.index.get_artifact_entry(scope, folder)
            except NotFound:
                continue
            raise self._clash(scope, folder, "file", new)
        new_dirs = {a for p in new for a in _ancestors(p)}
        existing = {e.path: e.digest for e in listed}
        for path in existing:
            if path in new_dirs:
                raise self._clash(scope, path, "file", new)
            for folder in _ancestors(path):
                if folder in new:
                    raise self._clash(scope, folder, "folder", new)
        return {p: d for p, d in existing.items() if p in new}

    @staticmethod
    def _clash(scope: str, path: str, existing: str, new: Iterable[str]) -> Conflict:
        wanted = "a folder" if existing == "file" else "a file"
        return Conflict(
            f"{path!r} in {scope} is already a {existing}, so it cannot become {wanted}; "
            "delete it first or choose another artifact path",
            details={"scope": scope, "path": path, "new": sorted(new)[:10]},
        )

    def _record(
        self, scope: str, stored: Sequence[tuple[str, Blob]], replaced: dict[str, str]
    ) -> builtins.list[ArtifactEntry]:
        created = now_ms()
        entries = [ArtifactEntry(scope, path, b.digest, b.size, created) for path, b in stored]
        self.index.put_artifact_entries(entries)
        new_digests = {e.digest for e in entries}
        self._collect({d for d in replaced.values() if d not in new_digests})
        return sorted(entries, key=lambda e: e.path)

    def _collect(self, digests: Iterable[str]) -> None:
        """Remove blobs that no index entry names any more."""
        for digest in sorted(digests):
            if not self.index.blob_referenced(digest):
                logger.debug("removing unreferenced blob %s", digest)
                self.blobs.delete(digest)

    @staticmethod
    def _make_parent(root: Path, target: Path, created: builtins.list[Path]) -> None:
        """Create ``target``'s folder, refusing any existing folder that leads outside ``root``."""
        missing: list[Path] = []
        parent = target.parent
        while not parent.exists() and not parent.is_symlink():
            missing.append(parent)
            parent = parent.parent
        # ``parent`` exists: it, and so every folder we create below it, must be inside root.
        real = parent.resolve()
        if real != root and root not in real.parents:
            raise PermissionDenied(
                f"{parent} leads outside the download folder {root} (a symlink?); remove it or "
                "download somewhere else",
                details={"path": str(parent), "root": str(root)},
            )
        for folder in reversed(missing):
            with local_os_errors("destination", folder, "creating"):
                folder.mkdir()
            created.append(folder)
