"""Schema migrations: the shipped head, the migrated schema, and out-of-date databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from modelward.cli.main import main
from modelward.errors import SchemaOutOfDate
from modelward.store.metadata import open_store
from modelward.store.metadata.sql import migrate
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.store import SqlMetadataStore
from modelward.store.metadata.sql.tables import metadata


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def _set_revision(uri: str, revision: str) -> None:
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_head_revision_is_alembics_head() -> None:
    assert migrate.alembic_heads() == [migrate.HEAD_REVISION]
    assert migrate.KNOWN_REVISIONS[-1] == migrate.HEAD_REVISION


def test_known_revisions_are_the_shipped_migrations_oldest_first() -> None:
    script = ScriptDirectory(str(Path(migrate.__file__).with_name("migrations")))
    shipped = [rev.revision for rev in script.walk_revisions()]  # newest first
    assert tuple(reversed(shipped)) == migrate.KNOWN_REVISIONS


def test_migrated_schema_matches_the_table_definitions(store_uri: str) -> None:
    store = open_store(store_uri)
    assert isinstance(store, SqlMetadataStore)
    try:
        with store.database.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        store.close()


def test_empty_database_is_initialised_unless_told_not_to(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'new' / 'mw.db'}"
    with pytest.raises(SchemaOutOfDate, match="has no modelward schema; run: modelward db upgrade"):
        open_store(uri, auto_create=False)
    store = open_store(uri)
    assert store.schema_revision() == migrate.HEAD_REVISION
    store.close()


def test_older_schema_fails_naming_db_upgrade_until_upgraded(
    sqlite_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Step back one migration (from the first one, that is the empty schema).
    database = Database(sqlite_uri)
    with database.write() as conn:
        command.downgrade(migrate._alembic_config(conn), "-1")
    database.dispose()
    with pytest.raises(SchemaOutOfDate, match="run: modelward db upgrade"):
        open_store(sqlite_uri, auto_create=False)
    code, out, err = _cli(capsys, "--uri", sqlite_uri, "db", "current")
    assert code == 0
    assert "run: modelward db upgrade" in out
    code, out, err = _cli(capsys, "--uri", sqlite_uri, "db", "upgrade", "--json")
    assert (code, err) == (0, "")
    assert '"to": "' + migrate.HEAD_REVISION + '"' in out
    store = open_store(sqlite_uri, auto_create=False)
    exp = store.create_experiment("works")
    assert store.get_experiment(exp.id).name == "works"
    store.close()
    code, out, _ = _cli(capsys, "--uri", sqlite_uri, "db", "upgrade")
    assert code == 0
    assert "already current" in out


def test_schema_behind_this_modelward_is_refused(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend this modelward shipped a newer migration than the database has.
    current = migrate.HEAD_REVISION
    monkeypatch.setattr(migrate, "HEAD_REVISION", "9000")
    monkeypatch.setattr(migrate, "KNOWN_REVISIONS", (*migrate.KNOWN_REVISIONS, "9000"))
    with pytest.raises(
        SchemaOutOfDate,
        match=f"at revision {current} but this modelward needs 9000; back up the database, "
        "then run: modelward db upgrade",
    ) as info:
        open_store(sqlite_uri)
    assert info.value.details == {"current": current, "required": "9000"}


def test_schema_newer_than_this_modelward_is_refused(
    sqlite_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_revision(sqlite_uri, "ffff")
    with pytest.raises(SchemaOutOfDate, match="revision ffff, newer than this modelward knows"):
        open_store(sqlite_uri)
    code, out, err = _cli(capsys, "--uri", sqlite_uri, "db", "upgrade")
    assert code == 1
    assert out == ""
    assert err == (
        "error: the database schema is at revision ffff, newer than this modelward knows "
        f"({migrate.HEAD_REVISION}); upgrade modelward to use it\n"
    )
    code, out, err = _cli(capsys, "--uri", sqlite_uri, "db", "current")
    assert code == 0
    assert "upgrade modelward" in out
    assert "db upgrade" not in out


def test_concurrent_initialisation_is_serialised(tmp_path: Path) -> None:
    import threading

    uri = f"sqlite:///{tmp_path / 'mw.db'}"
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            open_store(uri).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = open_store(uri, auto_create=False)
    assert store.schema_revision() == migrate.HEAD_REVISION
    store.close()
