"""Webhook notifier: a JSON POST whose body Slack (and Mattermost, Teams workflows, ...) accept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelward.errors import Unavailable
from modelward.monitoring.notifiers.base import slack_body

__all__ = ["WebhookNotifier"]


class WebhookNotifier:
    """POST alert events as JSON.

    The body always has Slack's ``text`` and ``blocks``; with ``body="full"`` (the default) it
    also carries ``event``, ``monitor``, ``deployment`` and ``alert`` (the whole alert record)
    for automation. Use ``body="slack"`` for endpoints that refuse unknown fields.

    Args:
        name: Notifier name.
        url: Where to POST.
        headers: Extra request headers (e.g. an authorisation token).
        body: ``full`` or ``slack``.
        timeout: Seconds for connecting and for the answer.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: str = "full",
        timeout: float = 5.0,
    ) -> None:
        self.name = name
        self.url = url
        self.headers = dict(headers or {})
        self.body = body
        self.timeout = timeout

    def build(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body for ``payload``."""
        out = slack_body(payload)
        if self.body == "full":
            out.update(
                {
                    "event": payload.get("event"),
                    "monitor": payload.get("monitor"),
                    "deployment": payload.get("deployment"),
                    "alert": payload.get("alert"),
                }
            )
        return out

    def send(self, payload: Mapping[str, Any]) -> None:
        """POST the event; raise :class:`~modelward.errors.Unavailable` unless it gets a 2xx."""
        import httpx

        try:
            response = httpx.post(
                self.url, json=self.build(payload), headers=self.headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"webhook {self.name}: {type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise Unavailable(
                f"webhook {self.name} answered HTTP {response.status_code}: {response.text[:200]}"
            )
