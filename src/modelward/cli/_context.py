"""State shared by CLI commands: settings from flags and environment, and output helpers."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from modelward.client import Client
    from modelward.config import Settings

__all__ = ["CliContext", "emit", "get_context", "json_default", "json_option"]


class CliContext:
    """Lazily built settings and client for one CLI invocation."""

    def __init__(
        self, *, home: str | None, uri: str | None, artifacts: str | None, debug: bool
    ) -> None:
        self._overrides = {"home": home, "uri": uri, "artifacts": artifacts}
        self.debug = debug
        self._settings: Settings | None = None
        self._client: Client | None = None

    @property
    def settings(self) -> Settings:
        """Settings from the environment with command-line flags on top."""
        if self._settings is None:
            from modelward.config import Settings

            try:
                self._settings = Settings.from_env(**self._overrides)
            except ValueError as exc:  # pydantic.ValidationError is a ValueError
                raise click.UsageError(_settings_error(exc)) from None
        return self._settings

    @property
    def client(self) -> Client:
        """The client for this invocation (opened on first use)."""
        if self._client is None:
            from modelward.client import Client

            # The CLI never samples system metrics for runs it might start.
            self._client = Client(settings=self.settings.with_overrides(system_metrics=False))
        return self._client

    def close(self) -> None:
        """Flush and close the client if one was opened."""
        if self._client is not None:
            self._client.close()


def _settings_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        return f"invalid setting MODELWARD_{field.upper()}: {first.get('msg')}"
    return f"invalid settings: {exc}"


def get_context() -> CliContext:
    """Return the current invocation's context."""
    obj = click.get_current_context().find_root().obj
    if not isinstance(obj, CliContext):  # pragma: no cover - only when misused
        raise RuntimeError("modelward CLI context missing")
    return obj


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json`` (machine-readable output) to a command."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def json_default(value: Any) -> Any:
    """Serialise what ``json`` cannot: enums, paths, dataclasses, NaN-safe floats."""
    import dataclasses
    import enum
    from pathlib import Path

    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def emit(data: Any, as_json: bool, render: Callable[[Console], None] | None = None) -> None:
    """Print ``data`` as JSON, or call ``render`` with a rich console for people."""
    if as_json or render is None:
        text = json.dumps(_clean(json.loads(json.dumps(data, default=json_default))), indent=2)
        click.echo(text)
        return
    from rich.console import Console

    render(Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200))
