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


MIN_SECRET = 16
"""Characters a given ``HUIKUAN_SESSION_SECRET`` has at least: a short one is guessable."""


class WeakSecret(ValueError):
    """``HUIKUAN_SESSION_SECRET`` is too short to sign sessions with."""


def secret(env: dict[str, str] | None = None) -> bytes:
    """The session secret: ``HUIKUAN_SESSION_SECRET`` (at least 16 characters), or one
    made once and kept in ``./var/session.secret`` (readable by its owner alone). The
    file is written whole under another name and then renamed into place, so no
    process ever reads it empty; one found empty or short (a crash) is made again."""
    environment = os.environ if env is None else env
    given = environment.get("HUIKUAN_SESSION_SECRET")
    if given is not None:
        if len(given) < MIN_SECRET:
            msg = f"HUIKUAN_SESSION_SECRET has fewer than {MIN_SECRET} characters"
            raise WeakSecret(msg)
        return given.encode()
    path = Path("var") / "session.secret"
    try:
        kept = path.read_bytes()
        if len(kept) >= 32:
            return kept
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".session.secret.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secrets.token_hex(32).encode())
    try:
        os.link(partial, path)  # the first process to get there wins …
    except FileExistsError:
        kept = path.read_bytes()
        if len(kept) < 32:  # … unless what is there is empty or short: replace it
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path.read_bytes()


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    name: str
    nonce: str
    keyed_to: str
    """A digest of the person's password hash when the session began: a new password
    ends every session opened with the old one."""

    def csrf(self, key: bytes) -> str:
        return _sign(key, f"csrf|{self.nonce}")


def password_mark(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def open_session(name: str, password_hash: str, key: bytes) -> str:
    """A new session's cookie value."""
    body = (f"{name}|{int(time.time()) + LIFETIME}|{secrets.token_hex(12)}|"
            f"{password_mark(password_hash)}")
    return f"{body}|{_sign(key, body)}"


def session_of(cookie: str | None, key: bytes) -> Session | None:
    """The session a cookie holds, if its signature holds and it has not expired."""
    if not cookie or cookie.count("|") != 4:
        return None
    name, expires, nonce, mark, signature = cookie.split("|")
    # As bytes: a cookie is the client's text, and compare_digest refuses non-ASCII str.
    expected = _sign(key, f"{name}|{expires}|{nonce}|{mark}").encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        return None
    if not expires.isdigit() or int(expires) < time.time():
        return None
    return Session(name, nonce, mark)


def login_token(key: bytes, nonce: str) -> str:
    """The sign-in form's CSRF token, bound to a cookie of its own (``huikuan_login``)."""
    return _sign(key, f"login|{nonce}")


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

    def attempt(self, name: str) -> bool:
        """Count a sign-in attempt before its password is checked (so a burst of
        requests at once cannot all slip under the limit); False when the name is held."""
        with self._lock:
            recent = self._recent(name, time.time())
            if len(recent) >= TRIES:
                return False
            recent.append(time.time())
            return True

    def passed(self, name: str) -> None:
        """A sign-in succeeded: its name's count starts again."""
        with self._lock:
            self._failures.pop(name, None)
