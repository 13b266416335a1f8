"""Model URIs and their parsing.

``runs:/RUN_ID/PATH``, ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``,
``models:/NAME/latest`` and local paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from modelward.errors import InvalidInput

__all__ = ["LocalRef", "ModelRef", "RegistryRef", "RunRef", "parse_model_uri"]


@dataclass(frozen=True, slots=True)
class RunRef:
    """A model logged to a run: ``runs:/RUN_ID/PATH``."""

    run_id: str
    path: str

    @property
    def scope(self) -> str:
        """The artifact scope holding the model."""
        return f"runs/{self.run_id}"

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.path}"


@dataclass(frozen=True, slots=True)
class RegistryRef:
    """A registered version: by number, by alias, or the latest ready one."""

    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def latest(self) -> bool:
        """Whether this means the newest READY version."""
        return self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        return f"models:/{self.name}/{'latest' if self.version is None else self.version}"


@dataclass(frozen=True, slots=True)
class LocalRef:
    """A model directory on this machine."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)


ModelRef = RunRef | RegistryRef | LocalRef

_RUN_ID = re.compile(r"[0-9a-f]{32}")


def _usage(uri: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"{why} in model URI {uri!r}; use runs:/RUN_ID/PATH, models:/NAME/VERSION, "
        "models:/NAME@ALIAS, models:/NAME/latest or a local folder",
        details={"uri": uri},
    )


def parse_run_source(text: str) -> RunRef:
    """Parse ``runs:/RUN_ID/PATH`` or the short ``RUN_ID/PATH``."""
    body = text[len("runs:/") :] if text.startswith("runs:/") else text
    run_id, _, path = body.strip("/").partition("/")
    if not _RUN_ID.fullmatch(run_id):
        raise _usage(text, f"{run_id!r} is not a run id (32 hex characters)")
    path = path.strip("/")
    if not path or any(part in {"", ".", ".."} for part in path.split("/")):
        raise _usage(text, "the model path after the run id is missing or not plain")
    return RunRef(run_id, path)


def parse_model_uri(uri: str | Path) -> ModelRef:
    """Parse a model URI or path into a reference.

    ``models:/NAME@ALIAS`` also accepts the short ``NAME@ALIAS`` form used by the CLI.
    """
    if isinstance(uri, Path):
        return LocalRef(uri)
    if not isinstance(uri, str) or not uri:
        raise InvalidInput(f"a model URI must be a non-empty string, not {uri!r}")
    if uri.startswith("runs:/"):
        return parse_run_source(uri)
    if uri.startswith("models:/"):
        body = uri[len("models:/") :].strip("/")
        if "@" in body:
            name, _, alias = body.partition("@")
            if not name or not alias or "/" in alias:
                raise _usage(uri, "expected models:/NAME@ALIAS")
            return RegistryRef(name, alias=alias)
        name, _, version = body.rpartition("/")
        if not name or not version:
            raise _usage(uri, "expected models:/NAME/VERSION")
        if version == "latest":
            return RegistryRef(name)
        if not version.isdigit() or int(version) < 1:
            raise _usage(uri, f"{version!r} is not a version number")
        return RegistryRef(name, version=int(version))
    if "://" in uri or uri.startswith(("s3:", "http:", "https:")):
        raise _usage(uri, "unknown scheme")
    return LocalRef(Path(uri).expanduser())


def parse_registry_ref(text: str) -> RegistryRef:
    """Parse ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME/latest`` or ``NAME`` (= latest)."""
    if text.startswith("models:/"):
        ref = parse_model_uri(text)
        assert isinstance(ref, RegistryRef)
        return ref
    if "@" in text or "/" in text:
        ref = parse_model_uri("models:/" + text)
        assert isinstance(ref, RegistryRef)
        return ref
    return RegistryRef(text)
