"""The SQL engine: SQLite settings, and driver errors turned into modelward errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from modelward.errors import (
    Conflict,
    InvalidInput,
    ReadOnlyStore,
    StorageFull,
    Unavailable,
)
from modelward.store.metadata import open_store
from modelward.store.metadata.sql.engine import Database, translate_errors
from modelward.store.metadata.sql.store import SqlMetadataStore


def _path(uri: str) -> str:
    return uri.removeprefix("sqlite:///")


@pytest.fixture
def lock_holder(sqlite_uri: str) -> Iterator[sqlite3.Connection]:
    """Another connection holding the SQLite write lock for the whole test."""
    conn = sqlite3.connect(_path(sqlite_uri), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO experiments (id, name, created_at) VALUES ('x', 'held', 1)")
    yield conn
    conn.execute("ROLLBACK")
    conn.close()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(sqlite_uri: str) -> None:
    database = Database(sqlite_uri, busy_timeout=7.5)
    with database.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7500
    database.dispose()


def test_writer_past_the_busy_timeout_gets_unavailable_with_advice(
    sqlite_uri: str, lock_holder: sqlite3.Connection
) -> None:
    store = open_store(sqlite_uri, busy_timeout=0.05)
    try:
        with pytest.raises(Unavailable, match="busy timeout") as info:
            store.create_experiment("blocked")
        message = str(info.value)
        assert "MODELWARD_SQLITE_BUSY_TIMEOUT" in message
        assert message.strip() != "database is locked"
        # Readers are not blocked by a writer (WAL) and see only committed data.
        assert store.list_experiments() == []
    finally:
        store.close()


def test_read_only_database_raises_read_only_store(sqlite_uri: str) -> None:
    writable = open_store(sqlite_uri)
    writable.create_experiment("before")
    writable.close()
    uri = f"sqlite:///file:{_path(sqlite_uri)}?mode=ro&uri=true"
    store = open_store(uri)
    try:
        assert [e.name for e in store.list_experiments()] == ["before"]
        with pytest.raises(ReadOnlyStore, match="read-only; check the file and folder perm"):
            store.create_experiment("after")
    finally:
        store.close()
    assert not Path("file:").exists()  # the URI filename is not taken for a folder to create


def test_full_disk_raises_storage_full_and_keeps_data(sqlite_uri: str) -> None:
    store = open_store(sqlite_uri)
    assert isinstance(store, SqlMetadataStore)
    exp = store.create_experiment("exp")
    run = store.create_run(exp.id)
    engine = store.database.engine
    engine.dispose()

    @sa.event.listens_for(engine, "connect")
    def _cap(dbapi_conn: Any, _record: Any) -> None:
        # Cap the file at its current size: the next growth fails like a full disk.
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    try:
        with pytest.raises(StorageFull, match=r"no space left.*nothing was written"):
            store.log_params(run.id, {f"k{i}": "x" * 60_000 for i in range(20)})
        assert dict(store.get_run(run.id).params) == {}
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        store.close()


def test_unreachable_postgres_raises_unavailable() -> None:
    with pytest.raises(Unavailable, match="cannot reach the metadata store"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_integrity_violation_raises_conflict(sqlite_store: SqlMetadataStore) -> None:
    exp = sqlite_store.create_experiment("exp")
    with pytest.raises(Conflict, match="conflicts with stored data"):
        sqlite_store.create_run(exp.id, environment_digest="0" * 64)


def test_value_too_long_for_its_column_is_invalid_input(postgres_uri: str) -> None:
    # (SQLite does not enforce VARCHAR lengths.)
    store = open_store(postgres_uri)
    try:
        exp = store.create_experiment("exp")
        with pytest.raises(InvalidInput, match="does not fit the metadata store: value too long"):
            store.create_run(exp.id, user="u" * 300)
    finally:
        store.close()


def test_unexpected_sqlalchemy_error_becomes_unavailable() -> None:
    with pytest.raises(Unavailable, match="metadata store error"), translate_errors():
        raise sa.exc.InvalidRequestError("boom")


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("", "the metadata store URI is empty"),
        ("mysql://u@h/db", "unknown metadata store scheme 'mysql'"),
        ("http://127.0.0.1:5000", "is a server URL"),
    ],
)
def test_bad_uris_are_invalid_input(uri: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        open_store(uri)


def test_plain_path_opens_sqlite(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "sub" / "plain.db"))
    assert store.uri == f"sqlite:///{tmp_path / 'sub' / 'plain.db'}"
    store.close()
