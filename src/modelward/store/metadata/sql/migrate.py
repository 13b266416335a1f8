"""Schema migrations: run Alembic on a connection and check the schema revision."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from modelward.errors import SchemaOutOfDate
from modelward.store.metadata.sql.engine import Database

__all__ = [
    "HEAD_REVISION",
    "KNOWN_REVISIONS",
    "alembic_heads",
    "check_schema",
    "current_revision",
    "upgrade",
]

#: The newest migration shipped with this modelward. A test pins it to Alembic's head, so a
#: start-up check costs one query and no Alembic import.
HEAD_REVISION = "0005"
#: Every revision this modelward knows, oldest first (a database at another one is newer).
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005")

_MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config(conn: sa.Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _newer_than_known(revision: str) -> SchemaOutOfDate:
    return SchemaOutOfDate(
        f"the database schema is at revision {revision}, newer than this modelward "
        f"knows ({HEAD_REVISION}); upgrade modelward to use it",
        details={"current": revision, "required": HEAD_REVISION},
    )


def current_revision(db: Database) -> str | None:
    """Return the database's schema revision, or ``None`` for an empty database."""
    with db.read() as conn:
        return _revision(conn)


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Migrate the database to ``revision`` (default: the newest) and return the new revision.

    Raises:
        SchemaOutOfDate: The database is at a revision newer than this modelward knows.
    """
    from alembic import command

    # One write transaction (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL)
    # serialises processes that initialise the same empty database at once: the second one
    # finds the schema current and does nothing.
    with db.write() as conn:
        if not db.is_sqlite:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7246001)")
        found = _revision(conn)
        if found is not None and found not in KNOWN_REVISIONS:
            # Alembic would fail with "Can't locate revision"; say what to do instead.
            raise _newer_than_known(found)
        command.upgrade(_alembic_config(conn), revision)
    return current_revision(db)


def alembic_heads() -> list[str]:
    """Return the head revisions found in the shipped migration scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return list(ScriptDirectory.from_config(cfg).get_heads())


def check_schema(db: Database, *, auto_create: bool = True) -> None:
    """Make sure the schema is current.

    An empty database is initialised when ``auto_create`` is true (the embedded default needs
    no set-up step). A database at an older revision is never migrated implicitly: that fails
    with :class:`~modelward.errors.SchemaOutOfDate` naming ``modelward db upgrade``.
    """
    revision = current_revision(db)
    if revision == HEAD_REVISION:
        return
    if revision is None and auto_create:
        upgrade(db)
        return
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise _newer_than_known(revision)
    if revision is None:
        raise SchemaOutOfDate(
            f"the database at {db.engine.url.render_as_string(hide_password=True)} has no "
            "modelward schema; run: modelward db upgrade"
        )
    raise SchemaOutOfDate(
        f"the database schema is at revision {revision} but this modelward needs "
        f"{HEAD_REVISION}; back up the database, then run: modelward db upgrade",
        details={"current": revision, "required": HEAD_REVISION},
    )
