"""Real receivers on loopback for the channel tests: an SMTP server and an HTTP webhook."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections import deque
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An SMTP server (aiosmtpd) that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.received = threading.Condition()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.received:
            self.messages.append(email.message_from_bytes(envelope.original_content,
                                                          policy=email.policy.default))
            self.received.notify_all()
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


class Webhook:
    """An HTTP server that records each POST and answers with the statuses queued."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: deque[int] = deque()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = webhook.statuses.popleft() if webhook.statuses else 200
                webhook.requests.append({"headers": dict(self.headers),
                                         "json": json.loads(body), "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def delivered(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] < 300]


def text_body(mail: Any) -> str:
    """The plain text of a received e-mail, whether or not a letter is attached."""
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None, mail
    text: str = body.get_content()
    return text
