"""Sessions of people signed in to the workspace, the forms' CSRF tokens, and the brake on
guessing passwords.

A session is a cookie ``huikuan_session`` = ``<name>|<expires>|<nonce>|<signature>``,
signed with HMAC-SHA256 under the server's session secret (``HUIKUAN_SESSION_SECRET``, or
one made once and kept in ``./var/session.secret``); Secure, HttpOnly and SameSite=Strict,
so no script reads it and no other site's page sends it. It lasts eight hours; signing out
clears it; a person disabled is refused at their next request. Every form carries a CSRF
token derived from the session (HMAC of its nonce), checked on every POST.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

COOKIE = "huikuan_session"
LIFETIME = 8 * 3600
TRIES = 5
"""Failed sign-ins for one name within :data:`WINDOW` before it is refused a while."""
WINDOW = 15 * 60


def secret(env: dict[str, str] | None = None) -> bytes:
    """The session secret: ``HUIKUAN_SESSION_SECRET``, or one made once and kept in
    ``./var/session.secret`` (readable by its owner alone)."""
    environment = os.environ if env is None else env
    given = environment.get("HUIKUAN_SESSION_SECRET")
    if given:
        return given.encode()
    path = Path("var") / "session.secret"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        made = secrets.token_hex(32).encode()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(made)
        return made
    except FileExistsError:  # made by another process meanwhile
        return path.read_bytes()


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    name: str
    nonce: str

    def csrf(self, key: bytes) -> str:
        return _sign(key, f"csrf|{self.nonce}")


def open_session(name: str, key: bytes) -> str:
    """A new session's cookie value."""
    body = f"{name}|{int(time.time()) + LIFETIME}|{secrets.token_hex(12)}"
    return f"{body}|{_sign(key, body)}"


def session_of(cookie: str | None, key: bytes) -> Session | None:
    """The session a cookie holds, if its signature holds and it has not expired."""
    if not cookie or cookie.count("|") != 3:
        return None
    name, expires, nonce, signature = cookie.split("|")
    if not hmac.compare_digest(_sign(key, f"{name}|{expires}|{nonce}"), signature):
        return None
    if not expires.isdigit() or int(expires) < time.time():
        return None
    return Session(name, nonce)


class Brake:
    """Failed sign-ins per name: after :data:`TRIES` within :data:`WINDOW`, that name is
    refused until the oldest of them is :data:`WINDOW` old (per process)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(name, deque())
        while failures and failures[0] < now - WINDOW:
            failures.popleft()
        return failures

    def held(self, name: str) -> bool:
        with self._lock:
            return len(self._recent(name, time.time())) >= TRIES

    def failed(self, name: str) -> None:
        with self._lock:
            self._recent(name, time.time()).append(time.time())

    def passed(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)
