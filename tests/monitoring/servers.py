"""Local test endpoints on 127.0.0.1: a webhook receiver and a tiny SMTP server."""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    """What a test endpoint got."""

    bodies: list[Any] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    event: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def webhook_server(status: int = 200) -> Iterator[tuple[str, Received]]:
    """An HTTP server recording JSON POST bodies; yields its URL and what it received."""
    got = Received(status=status)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            got.bodies.append(json.loads(self.rfile.read(length)))
            got.headers.append(dict(self.headers))
            self.send_response(got.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            got.event.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port() -> int:
    """A local port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    """One message the SMTP server accepted."""

    sender: str
    recipients: list[str]
    data: str
    login: str | None


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[int, list[Mail]]]:
    """Enough SMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) for smtplib; yields port, mails."""
    mails: list[Mail] = []

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, text: str) -> None:
            self.wfile.write(text.encode() + b"\r\n")

        def handle(self) -> None:
            sender, recipients, login = "", [], None
            self.reply("220 fake smtp")
            while True:
                line = self.rfile.readline().decode().rstrip("\r\n")
                if not line:
                    return
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250-fake")
                    self.reply("250 AUTH PLAIN")
                elif verb == "AUTH":
                    token = line.split(" ")[2]
                    login = base64.b64decode(token).decode().split("\0")[1]
                    self.reply("235 authenticated")
                elif verb == "MAIL":
                    sender = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                    self.reply("250 ok")
                elif verb == "RCPT":
                    recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                    self.reply("250 ok")
                elif verb == "DATA":
                    self.reply("354 go on")
                    lines = []
                    while True:
                        chunk = self.rfile.readline().decode()
                        if chunk in (".\r\n", ".\n", ""):
                            break
                        lines.append(chunk)
                    mails.append(Mail(sender, list(recipients), "".join(lines), login))
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), mails
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
