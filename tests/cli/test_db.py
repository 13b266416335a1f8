"""``modelward db``: create, upgrade and inspect the schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelward.store.metadata.sql.migrate import HEAD_REVISION
from tests.cli.conftest import Result


def test_upgrade_creates_then_reports_current(cli: Callable[..., Result], tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'new' / 'mw.db'}"
    before = cli("--uri", uri, "db", "current", "--json").json()
    assert before["revision"] is None
    assert before["up_to_date"] is False
    assert "run: modelward db upgrade" in cli("--uri", uri, "db", "current").out
    first = cli("--uri", uri, "db", "upgrade", "--json").json()
    assert first == {"uri": uri, "from": None, "to": HEAD_REVISION, "head": HEAD_REVISION}
    assert cli("--uri", uri, "db", "upgrade").out == (
        f"schema at revision {HEAD_REVISION} (already current)\n"
    )
    after = cli("--uri", uri, "db", "current", "--json").json()
    assert (after["revision"], after["up_to_date"]) == (HEAD_REVISION, True)


def test_home_option_and_environment_pick_the_store(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("--home", str(tmp_path / "h"), "db", "upgrade").code == 0
    assert (tmp_path / "h" / "modelward.db").is_file()
    monkeypatch.setenv("MODELWARD_HOME", str(tmp_path / "env"))
    assert cli("db", "upgrade").code == 0
    assert (tmp_path / "env" / "modelward.db").is_file()
