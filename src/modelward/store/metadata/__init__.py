"""The metadata store: contract, and the factory that picks an implementation by URI scheme."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelward.errors import InvalidInput

if TYPE_CHECKING:
    from modelward.store.metadata.base import MetadataStore

__all__ = ["open_store"]


def open_store(uri: str, *, busy_timeout: float = 60.0, auto_create: bool = True) -> MetadataStore:
    """Open the metadata store at ``uri``.

    Schemes: ``sqlite:///PATH`` (embedded default), ``postgresql+psycopg://…`` (or
    ``postgresql://…``). A plain filesystem path is taken as a SQLite file.

    Args:
        uri: Where the metadata lives.
        busy_timeout: Seconds a SQLite writer waits for the lock.
        auto_create: Initialise an empty database; an out-of-date one always fails with
            :class:`~modelward.errors.SchemaOutOfDate`.
    """
    if not isinstance(uri, str) or not uri:
        raise InvalidInput(
            "the metadata store URI is empty; pass sqlite:///PATH or postgresql+psycopg://…"
        )
    scheme = uri.split(":", 1)[0].lower() if "://" in uri else ""
    if scheme == "":
        from pathlib import Path

        uri = f"sqlite:///{Path(uri).expanduser().resolve()}"
        scheme = "sqlite"
    if scheme.startswith(("sqlite", "postgresql", "postgres")):
        from modelward.store.metadata.sql.store import SqlMetadataStore

        if scheme.startswith("postgres") and not scheme.startswith("postgresql"):
            uri = "postgresql" + uri[len(scheme) :]
        return SqlMetadataStore(uri, busy_timeout=busy_timeout, auto_create=auto_create)
    if scheme in {"http", "https"}:
        raise InvalidInput(
            f"{uri!r} is a server URL; the REST store arrives with the team server. Use a "
            "sqlite:/// or postgresql+psycopg:// URI for now"
        )
    raise InvalidInput(
        f"unknown metadata store scheme {scheme!r} in {uri!r}; use sqlite:///PATH or "
        "postgresql+psycopg://USER@HOST:PORT/DB"
    )
