"""The notifier protocol, the log notifier, and building notifiers from their configuration."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from modelward.errors import InvalidInput

if TYPE_CHECKING:
    from modelward.monitoring.spec import NotifierSpec

__all__ = ["LogNotifier", "Notifier", "build_notifier", "slack_body"]

log = logging.getLogger("modelward.alerts")

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


@runtime_checkable
class Notifier(Protocol):
    """Delivers one alert event; raises on failure (the dispatcher retries and records it).

    ``payload`` holds ``event`` (``firing``/``resolved``), ``text`` (one line), ``details``
    (a paragraph or ``None``), ``alert`` (the alert's JSON form), ``monitor`` and
    ``deployment``.
    """

    name: str

    def send(self, payload: Mapping[str, Any]) -> None:
        """Deliver ``payload``."""


class LogNotifier:
    """Writes alert events to the ``modelward.alerts`` logger.

    Args:
        name: Notifier name.
        level: ``debug``, ``info``, ``warning`` (default) or ``error``; critical alerts are
            logged at ``error`` at least.
    """

    def __init__(self, name: str = "log", *, level: str = "warning") -> None:
        self.name = name
        self.level = _LEVELS[level]

    def send(self, payload: Mapping[str, Any]) -> None:
        """Log the event's text (and details)."""
        severity = payload.get("alert", {}).get("severity")
        level = max(self.level, logging.ERROR) if severity == "critical" else self.level
        if payload.get("event") == "resolved":
            level = min(level, logging.INFO)
        extra = f" — {payload['details']}" if payload.get("details") else ""
        log.log(level, "%s%s", payload.get("text", ""), extra)


def slack_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (notification fallback) and ``blocks``."""
    text = str(payload.get("text", ""))
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if payload.get("details"):
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": str(payload["details"])}]}
        )
    return {"text": text, "blocks": blocks}


def build_notifier(spec: NotifierSpec | None, secrets: Mapping[str, str]) -> Notifier:
    """Build a notifier from its configuration (``None``: the default log notifier).

    Raises:
        InvalidInput: A secret it names (``url_env``, ``password_env``) is not set.
    """
    if spec is None:
        return LogNotifier()
    options = spec.options
    if spec.type == "log":
        return LogNotifier(spec.name, level=str(options.get("level", "warning")))
    if spec.type == "webhook":
        from modelward.monitoring.notifiers.webhook import WebhookNotifier

        url = options.get("url") or _secret(secrets, str(options["url_env"]), spec.name)
        return WebhookNotifier(
            spec.name,
            str(url),
            headers=dict(options.get("headers") or {}),
            body=str(options.get("body", "full")),
            timeout=spec.timeout,
        )
    from modelward.monitoring.notifiers.email import EmailNotifier

    password_env = options.get("password_env")
    return EmailNotifier(
        spec.name,
        host=str(options["host"]),
        port=int(options.get("port") or (465 if options.get("ssl") else 25)),
        sender=str(options["sender"]),
        to=[str(t) for t in options["to"]],
        username=options.get("username"),
        password=_secret(secrets, str(password_env), spec.name) if password_env else None,
        starttls=bool(options.get("starttls", False)),
        ssl=bool(options.get("ssl", False)),
        timeout=spec.timeout,
    )


def _secret(secrets: Mapping[str, str], name: str, notifier: str) -> str:
    value = secrets.get(name)
    if not value:
        raise InvalidInput(
            f"notifier {notifier!r} reads environment variable {name}, which is not set in the "
            "process running the monitor"
        )
    return value
