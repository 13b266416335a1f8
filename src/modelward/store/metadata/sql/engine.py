"""SQLAlchemy engine set-up and the one place where driver errors become modelward errors.

SQLite is configured for many concurrent writer processes: WAL journal, a long busy timeout,
``synchronous=NORMAL`` (durable across process crashes; a power cut may lose the last commit)
and ``BEGIN IMMEDIATE`` for write transactions, so a writer takes the lock up front (waiting
through the busy handler) instead of failing with "database is locked" on lock upgrade.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from modelward.errors import (
    Conflict,
    InvalidInput,
    ModelwardError,
    ReadOnlyStore,
    StorageFull,
    Unavailable,
)

__all__ = ["Database", "RawStatement", "translate_errors"]

log = logging.getLogger(__name__)

_SQLITE_PREFIX = "sqlite://"


def _sqlite_path(uri: str) -> Path | None:
    url = sa.engine.make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        # An SQLite URI filename (``sqlite:///file:PATH?mode=ro&uri=true``), not a path.
        return None
    return Path(url.database)


class RawStatement:
    """A fixed statement with ``:name`` parameters, executed through the driver directly.

    For the few hottest statements (creating and ending runs, logging params): skipping
    SQLAlchemy's compile and result machinery saves ~30 µs per statement. Values still travel
    as bound parameters; the text is converted once to psycopg's ``%(name)s`` style.
    """

    __slots__ = ("pyformat", "qmark_named")

    def __init__(self, sql: str) -> None:
        self.qmark_named = sql
        self.pyformat = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)

    def text(self, is_sqlite: bool) -> str:
        """The statement in the driver's parameter style."""
        return self.qmark_named if is_sqlite else self.pyformat


class Database:
    """An engine plus transaction helpers that translate driver errors.

    Args:
        uri: SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``).
        busy_timeout: Seconds a SQLite writer waits for the lock.
    """

    def __init__(self, uri: str, *, busy_timeout: float = 60.0) -> None:
        self.uri = uri
        try:
            url = sa.engine.make_url(uri)
        except sa.exc.ArgumentError as exc:
            raise InvalidInput(
                f"not a database URL: {uri!r}; use sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST:PORT/DB"
            ) from exc
        self.dialect = url.get_backend_name()
        if self.dialect not in {"sqlite", "postgresql"}:
            raise InvalidInput(
                f"unsupported metadata store {self.dialect!r} in {uri!r}; "
                "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
            )
        self.is_sqlite = self.dialect == "sqlite"
        if self.is_sqlite:
            path = _sqlite_path(uri)
            if path is not None and not path.parent.exists():
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise ReadOnlyStore(
                        f"cannot create the folder {path.parent} for the database: {exc.strerror}"
                    ) from exc
            self.engine = sa.create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": busy_timeout},
                pool_size=8,
                max_overflow=16,
            )
            self._install_sqlite_hooks(self.engine, busy_timeout)
        else:
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            try:
                self.engine = sa.create_engine(url, pool_pre_ping=True, pool_size=8)
            except ImportError as exc:
                raise ModelwardError(
                    "the PostgreSQL driver is not installed; "
                    "install it with: pip install 'modelward[postgres]'"
                ) from exc

    @staticmethod
    def _install_sqlite_hooks(engine: Engine, busy_timeout: float) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so BEGIN IMMEDIATE works.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            try:
                cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                cur.execute("PRAGMA foreign_keys = ON")
                # SQLite's LIKE ignores ASCII case by default; PostgreSQL's does not. Make it
                # case-sensitive so LIKE means the same on both (ILIKE covers the other need).
                cur.execute("PRAGMA case_sensitive_like = ON")
                mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    with contextlib.suppress(Exception):
                        cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
                cur.execute("PRAGMA cache_size = -32000")
            finally:
                cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

    def run(self, conn: Connection, statement: RawStatement, params: Any) -> Any:
        """Execute a :class:`RawStatement` (``params``: a dict, or a list of dicts)."""
        return conn.exec_driver_sql(statement.text(self.is_sqlite), params)

    def insert(self, table: sa.Table) -> Any:
        """An ``INSERT`` for this dialect, with ``on_conflict_do_update``/``do_nothing``."""
        from sqlalchemy.dialects import postgresql, sqlite

        if self.is_sqlite:
            return sqlite.insert(table)
        return postgresql.insert(table)

    def placeholders(self, n: int) -> str:
        """``n`` positional bind markers in the driver's paramstyle (for bulk inserts)."""
        marker = "?" if self.is_sqlite else "%s"
        return ", ".join([marker] * n)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A short write transaction (``BEGIN IMMEDIATE`` on SQLite); commits on success."""
        with translate_errors(), self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot)."""
        with translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


_LOCKED = re.compile(r"database is locked|database table is locked|could not obtain lock")
_READONLY = re.compile(r"readonly database|read-only|attempt to write a readonly")
_FULL = re.compile(r"database or disk is full|disk full|No space left|could not extend file")
_CONNECT = re.compile(
    r"unable to open database|could not connect|connection refused|Connection refused|"
    r"server closed the connection|connection to server|timeout expired"
)


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn SQLAlchemy/driver exceptions into modelward errors with actionable messages."""
    try:
        yield
    except ModelwardError:
        raise
    except DBAPIError as exc:
        raise _translate(exc) from exc
    except SQLAlchemyError as exc:
        raise Unavailable(f"metadata store error: {exc}") from exc


def _translate(exc: DBAPIError) -> ModelwardError:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if _LOCKED.search(text):
        return Unavailable(
            "the database stayed locked past the busy timeout; another process holds a long "
            "write transaction (raise MODELWARD_SQLITE_BUSY_TIMEOUT or find the stuck writer)"
        )
    if _READONLY.search(text):
        return ReadOnlyStore(
            "the metadata database is read-only; check the file and folder permissions "
            "or point MODELWARD_URI at a writable store"
        )
    if _FULL.search(text):
        return StorageFull(
            "no space left for the metadata database; free disk space and retry "
            "(nothing was written by the failed call)"
        )
    if _CONNECT.search(text) or (isinstance(exc, OperationalError) and exc.connection_invalidated):
        return Unavailable(f"cannot reach the metadata store: {text.strip().splitlines()[0]}")
    if isinstance(exc, sa.exc.IntegrityError):
        return Conflict(f"the change conflicts with stored data: {text.strip().splitlines()[0]}")
    if isinstance(exc, sa.exc.DataError):
        # e.g. PostgreSQL's "value too long for type character varying(256)": bad input, not
        # an unavailable store, so retrying cannot help.
        return InvalidInput(
            f"a value does not fit the metadata store: {text.strip().splitlines()[0]}"
        )
    return Unavailable(f"metadata store error: {text.strip().splitlines()[0]}")
