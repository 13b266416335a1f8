"""Docs are tested: every setting, CLI command and error code is documented."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_documented() -> None:
    from modelward.config import Settings

    text = (DOCS / "configuration.md").read_text()
    missing = [
        name
        for name in Settings.model_fields
        if f"`{name}`" not in text or f"MODELWARD_{name.upper()}" not in text
    ]
    assert not missing, f"document these settings in docs/configuration.md: {missing}"


def test_every_error_code_is_documented() -> None:
    from modelward.errors import _all_error_classes

    text = (DOCS / "errors.md").read_text()
    missing = [cls.code for cls in _all_error_classes() if f"`{cls.code}`" not in text]
    assert not missing, f"document these error codes in docs/errors.md: {missing}"


def test_cli_reference_is_current() -> None:
    from modelward.cli.reference import command_paths, render

    text = (DOCS / "cli.md").read_text()
    missing = [path for path in command_paths() if f"## {path}\n" not in text]
    assert not missing, f"commands missing from docs/cli.md: {missing}"
    current = render()
    if text != current:
        import difflib

        diff = "".join(
            list(difflib.unified_diff(text.splitlines(True), current.splitlines(True), n=1))[:30]
        )
        raise AssertionError(
            "docs/cli.md is stale; regenerate it: "
            f"python -m modelward.cli.reference > docs/cli.md\n{diff}"
        )
