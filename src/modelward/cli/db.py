"""``modelward db``: create, upgrade and inspect the metadata schema."""

from __future__ import annotations

import click

from modelward.cli._context import emit, get_context, json_option

__all__ = ["db"]


@click.group()
def db() -> None:
    """Create or upgrade the metadata database schema."""


@db.command("upgrade")
@json_option
def upgrade(as_json: bool) -> None:
    """Migrate the metadata database to this modelward's schema (back it up first)."""
    from modelward.store.metadata.sql.engine import Database
    from modelward.store.metadata.sql.migrate import HEAD_REVISION, current_revision
    from modelward.store.metadata.sql.migrate import upgrade as run_upgrade

    settings = get_context().settings
    database = Database(settings.metadata_uri(), busy_timeout=settings.sqlite_busy_timeout)
    try:
        before = current_revision(database)
        after = run_upgrade(database)
    finally:
        database.dispose()
    data = {
        "uri": _redact(settings.metadata_uri()),
        "from": before,
        "to": after,
        "head": HEAD_REVISION,
    }
    emit(
        data,
        as_json,
        lambda c: c.print(
            f"schema at revision {after}"
            + (" (already current)" if before == after else f" (was {before or 'empty'})")
        ),
    )


@db.command("current")
@json_option
def current(as_json: bool) -> None:
    """Show the schema revision of the metadata database."""
    from modelward.store.metadata.sql.engine import Database
    from modelward.store.metadata.sql.migrate import (
        HEAD_REVISION,
        KNOWN_REVISIONS,
        current_revision,
    )

    settings = get_context().settings
    database = Database(settings.metadata_uri(), busy_timeout=settings.sqlite_busy_timeout)
    try:
        revision = current_revision(database)
    finally:
        database.dispose()
    data = {
        "uri": _redact(settings.metadata_uri()),
        "revision": revision,
        "head": HEAD_REVISION,
        "up_to_date": revision == HEAD_REVISION,
    }
    if revision == HEAD_REVISION:
        advice = ""
    elif revision is not None and revision not in KNOWN_REVISIONS:
        advice = " — the database is newer: upgrade modelward"
    else:
        advice = " — run: modelward db upgrade"
    emit(
        data,
        as_json,
        lambda c: c.print(
            f"revision {revision or 'none (empty database)'}; this modelward needs {HEAD_REVISION}"
            + advice
        ),
    )


def _redact(uri: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(uri).render_as_string(hide_password=True)
    except Exception:
        return uri
