"""The ``modelward`` entry point: version, help, fast start, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from modelward._version import __version__
from tests.cli.conftest import Populated, Result

SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = ["sqlalchemy", "alembic", "pandas", "numpy", "pydantic", "pydantic_settings", "rich",
         "psutil", "lark", "scipy", "sklearn", "pyarrow"]  # fmt: skip


def _modules_after(code: str) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_version(cli: Callable[..., Result]) -> None:
    result = cli("--version")
    assert (result.code, result.out, result.err) == (0, f"modelward, version {__version__}\n", "")


def test_help_lists_every_command(cli: Callable[..., Result]) -> None:
    result = cli("--help")
    assert result.code == 0
    for command in ("db", "experiments", "runs"):
        assert f"  {command} " in result.out
    for group, commands in {
        "runs": ("list", "show", "compare", "delete", "restore", "history"),
        "experiments": ("list", "create", "delete"),
        "db": ("upgrade", "current"),
    }.items():
        sub = cli(group, "--help")
        assert sub.code == 0
        for command in commands:
            assert f"  {command} " in sub.out, (group, command)


def test_help_imports_nothing_heavy() -> None:
    loaded = _modules_after(
        "from modelward.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    top = {m.split(".")[0] for m in loaded}
    assert "click" in top
    assert sorted(set(HEAVY) & top) == []
    # Sub-commands are described without importing them.
    assert [m for m in loaded if m.startswith("modelward.cli.")] == ["modelward.cli.main"]


def test_import_modelward_imports_nothing_heavy() -> None:
    loaded = _modules_after("import modelward")
    top = {m.split(".")[0] for m in loaded}
    assert sorted((set(HEAVY) | {"click"}) & top) == []
    assert [m for m in loaded if m.startswith("modelward")] == ["modelward", "modelward._version"]


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "modelward", "--version"],
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"modelward, version {__version__}\n",
        "",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "list", "--filter", "metrics.acc >> 1"), "error: invalid search at column 14"),
        (("runs", "list", "--order-by", "colour"), "error: invalid search at column 1 ('colour')"),
        (("runs", "list", "-e", "nope"), "error: experiment 'nope' does not exist; list them"),
        (("runs", "show", "0" * 32), f"error: run '{'0' * 32}' does not exist"),
        (("runs", "compare", "0" * 32), f"error: run '{'0' * 32}' does not exist"),
        (("runs", "delete", "0" * 32), f"error: run '{'0' * 32}' does not exist"),
        (("runs", "history", "0" * 32, "acc"), f"error: run '{'0' * 32}' does not exist"),
        (("experiments", "delete", "nope"), "error: experiment 'nope' does not exist"),
        (("experiments", "create", "exp"), "error: experiment 'exp' already exists"),
        (("runs", "list", "--page-token", "junk"), "error: the page token is not valid"),
    ],
)
def test_failures_print_one_line_and_exit_1(
    cli: Callable[..., Result], populated: Populated, args: tuple[str, ...], message: str
) -> None:
    result = cli(*populated.args(*args))
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith(message)
    assert result.err.count("\n") == 1
    assert result.err.endswith("\n")
    assert "Traceback" not in result.err


def test_debug_shows_the_traceback(cli: Callable[..., Result], populated: Populated) -> None:
    result = cli("--debug", *populated.args("runs", "show", "nope"))
    assert result.code == 1
    assert "Traceback" in result.err
    assert result.err.endswith("error: run 'nope' does not exist\n")


def test_usage_errors_exit_2(cli: Callable[..., Result], populated: Populated) -> None:
    result = cli(*populated.args("runs", "list", "--max-results", "0"))
    assert result.code == 2
    assert "Invalid value for '--max-results'" in result.err
    result = cli("no-such-command")
    assert result.code == 2
    assert "No such command 'no-such-command'" in result.err


def test_a_bad_setting_is_a_usage_error(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, populated: Populated
) -> None:
    monkeypatch.setenv("MODELWARD_SQLITE_BUSY_TIMEOUT", "-1")
    result = cli(*populated.args("runs", "list"))
    assert result.code == 2
    assert "invalid setting MODELWARD_SQLITE_BUSY_TIMEOUT" in result.err
    assert "Traceback" not in result.err


def test_an_out_of_date_store_names_the_fix(cli: Callable[..., Result], tmp_path: Path) -> None:
    import sqlalchemy as sa

    uri = f"sqlite:///{tmp_path / 'mw.db'}"
    assert cli("--uri", uri, "db", "upgrade").code == 0
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
    engine.dispose()
    result = cli("--uri", uri, "runs", "list")
    assert result.code == 1
    assert result.err.startswith("error: the database schema is at revision ffff, newer")
