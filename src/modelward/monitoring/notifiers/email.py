"""E-mail notifier: SMTP with STARTTLS or implicit TLS (SSL), optional login."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from modelward.errors import Unavailable

__all__ = ["EmailNotifier"]


class EmailNotifier:
    """Send alert events by e-mail.

    Args:
        name: Notifier name.
        host: SMTP server.
        port: Its port (default 25, or 465 with ``ssl``; 587 is usual with ``starttls``).
        sender: The From address.
        to: Recipients.
        username: Login name, if the server needs one.
        password: Its password (from the environment variable ``password_env`` names).
        starttls: Upgrade the connection with STARTTLS.
        ssl: Connect with TLS from the start (SMTPS).
        timeout: Seconds for each network operation.
    """

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int,
        sender: str,
        to: Sequence[str],
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        ssl: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.sender = sender
        self.to = list(to)
        self.username = username
        self.password = password
        self.starttls = starttls
        self.ssl = ssl
        self.timeout = timeout

    def message(self, payload: Mapping[str, Any]) -> Any:
        """The e-mail for ``payload``."""
        from email.message import EmailMessage

        msg = EmailMessage()
        msg["Subject"] = f"[modelward] {payload.get('text', 'alert')}"[:250]
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        body = [str(payload.get("text", ""))]
        if payload.get("details"):
            body += ["", str(payload["details"])]
        body += ["", json.dumps(payload.get("alert", {}), indent=2, default=str)]
        msg.set_content("\n".join(body))
        return msg

    def send(self, payload: Mapping[str, Any]) -> None:
        """Send the e-mail; raise :class:`~modelward.errors.Unavailable` on any SMTP failure."""
        import smtplib
        import ssl as ssl_lib

        context = ssl_lib.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self.ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(self.message(payload))
        except (smtplib.SMTPException, OSError) as exc:
            raise Unavailable(f"e-mail {self.name} via {self.host}:{self.port}: {exc}") from exc
