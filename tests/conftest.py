"""Test fixtures shared by the whole suite.

- The SQLite schema is migrated once per test session and the file copied per test.
- When ``MODELWARD_TEST_POSTGRES_URL`` is set, store tests also run on PostgreSQL, each test
  session in a database of its own (so parallel runs never collide), truncated per test.
  ``MODELWARD_TEST_REQUIRE_POSTGRES=1`` (set by CI) turns a missing server into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelward.store.metadata.base import MetadataStore

POSTGRES_URL = os.environ.get("MODELWARD_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("MODELWARD_TEST_REQUIRE_POSTGRES") == "1"


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the newest schema, created once per session."""
    from modelward.store.metadata import open_store

    path = tmp_path_factory.mktemp("template") / "template.db"
    store = open_store(f"sqlite:///{path}")
    store.close()
    return path


@pytest.fixture
def sqlite_uri(sqlite_template: Path, tmp_path: Path) -> str:
    """URI of a fresh, migrated SQLite database for this test."""
    target = tmp_path / "mw.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """A database of this test session's own on the PostgreSQL server, migrated once."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail(
                "MODELWARD_TEST_REQUIRE_POSTGRES=1 but MODELWARD_TEST_POSTGRES_URL is not set"
            )
        pytest.skip("PostgreSQL tests need MODELWARD_TEST_POSTGRES_URL (CI sets it)")
    import sqlalchemy as sa

    try:
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"mwtest_{uuid.uuid4().hex[:10]}"
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    from modelward.store.metadata import open_store

    open_store(url).close()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def postgres_uri(postgres_session_url: str) -> str:
    """URI of the session's PostgreSQL database, emptied for this test."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_session_url)
    with engine.begin() as conn:
        names = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ]
        if names:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE")
    engine.dispose()
    return postgres_session_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_uri(request: pytest.FixtureRequest) -> str:
    """A fresh metadata store URI, once per backend (PostgreSQL when configured)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_uri"))
    return str(request.getfixturevalue("postgres_uri"))


@pytest.fixture
def store(store_uri: str) -> Iterator[MetadataStore]:
    """An open metadata store on each backend."""
    from modelward.store.metadata import open_store

    s = open_store(store_uri)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_uri: str) -> Iterator[MetadataStore]:
    """An open SQLite metadata store (for tests that need only the embedded default)."""
    from modelward.store.metadata import open_store

    s = open_store(sqlite_uri)
    yield s
    s.close()
