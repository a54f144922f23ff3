"""People who sign in to the workspace: their name, role, language and password hash, kept
as events on the user ring (as API keys are on the key ring), so the audit covers them.

A password is never stored: the ring keeps ``scrypt:<n>:<r>:<p>:<salt>:<hash>`` (hashlib's
scrypt, n = 2^14, about 50 ms a try here: slow for a guesser, quick for a person). The
ring's events are shown to admins alone, and then without the hash. Roles are the API
keys' (core.access.ROLES).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from huikuan.core.access import ROLES
from huikuan.core.aggregate import ChainedAggregate
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.ledger import Ledger

USERRING_ID: UUID = uuid5(NAMESPACE_URL, "huikuan:users")
USERRING_TOPICS = ("huikuan:UserRing.Created", "huikuan:UserRing.UserCreated",
                   "huikuan:UserRing.PasswordSet", "huikuan:UserRing.UserDisabled")
LANGUAGES = ("zh-CN", "en")
NAME = re.compile(r"[a-z][a-z0-9._-]{1,39}")
MIN_PASSWORD = 10
SCRYPT = {"n": 2**14, "r": 8, "p": 1}

log = structlog.get_logger("huikuan.users")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT, dklen=32)
    return f"scrypt:{SCRYPT['n']}:{SCRYPT['r']}:{SCRYPT['p']}:{salt.hex()}:{digest.hex()}"


def password_matches(stored: str, password: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split(":")
        tried = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n),
                               r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(tried.hex(), digest)


@dataclass
class User:
    name: str
    role: str
    language: str
    password_hash: str
    disabled: bool = False


class UserRing(ChainedAggregate):
    """Every person who may sign in."""

    TOPIC = "huikuan:UserRing"

    class Event(ChainedAggregate.Event):
        TOPIC = "huikuan:UserRing.Event"

    class Created(ChainedAggregate.Created):
        TOPIC = "huikuan:UserRing.Created"

    class UserCreated(Event):
        TOPIC = "huikuan:UserRing.UserCreated"
        name: str
        role: str
        language: str
        password_hash: str

        def apply(self, ring: UserRing) -> None:
            ring.users[self.name] = User(self.name, self.role, self.language,
                                         self.password_hash)

    class PasswordSet(Event):
        TOPIC = "huikuan:UserRing.PasswordSet"
        name: str
        password_hash: str

        def apply(self, ring: UserRing) -> None:
            ring.users[self.name].password_hash = self.password_hash

    class UserDisabled(Event):
        """The person may no longer sign in; their sessions end at their next request."""

        TOPIC = "huikuan:UserRing.UserDisabled"
        name: str

        def apply(self, ring: UserRing) -> None:
            ring.users[self.name].disabled = True

    def __init__(self) -> None:
        self.users: dict[str, User] = {}


def _ring(ledger: Ledger) -> UserRing:
    try:
        ring: UserRing = ledger.checkout(USERRING_ID, what="the user ring")
    except AggregateNotFoundError:
        ring = UserRing._create(UserRing.Created, id=USERRING_ID)
    return ring


def _write(ledger: Ledger, change: Callable[[UserRing], None]) -> UserRing:
    for _ in range(50):
        ring = _ring(ledger)
        change(ring)
        try:
            ledger.save_checked(ring)
        except IntegrityError:
            continue
        ledger.checkin(ring)
        return ring
    raise InvalidCommand("the user ring is busy; try again")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidCommand(f"a password has at least {MIN_PASSWORD} characters",
                             field="password")


def create_user(ledger: Ledger, name: str, role: str, password: str,
                language: str = "zh-CN") -> User:
    """A person who may sign in with ``password`` and act in ``role``."""
    if not NAME.fullmatch(name):
        raise InvalidCommand("a user name is 2–40 of a-z 0-9 . _ - starting with a letter",
                             field="name")
    if role not in ROLES:
        raise InvalidCommand(f"role is one of {', '.join(ROLES)}", field="role")
    if language not in LANGUAGES:
        raise InvalidCommand(f"language is one of {', '.join(LANGUAGES)}", field="language")
    check_password(password)
    sealed = hash_password(password)

    def change(ring: UserRing) -> None:
        if name in ring.users:
            raise Conflict(f"there is a user {name!r} already", field="name")
        ring.trigger_event(UserRing.UserCreated, name=name, role=role, language=language,
                           password_hash=sealed)

    ring = _write(ledger, change)
    log.info("users.created", user=name, role=role)
    return ring.users[name]


def set_password(ledger: Ledger, name: str, password: str) -> None:
    check_password(password)
    sealed = hash_password(password)

    def change(ring: UserRing) -> None:
        if name not in ring.users:
            raise NotFound(f"no user {name!r}", field="name")
        ring.trigger_event(UserRing.PasswordSet, name=name, password_hash=sealed)

    _write(ledger, change)


def disable_user(ledger: Ledger, name: str) -> None:
    def change(ring: UserRing) -> None:
        if name not in ring.users:
            raise NotFound(f"no user {name!r}", field="name")
        ring.trigger_event(UserRing.UserDisabled, name=name)

    _write(ledger, change)


def users(ledger: Ledger) -> dict[str, User]:
    try:
        ring: UserRing = ledger.get(USERRING_ID)
    except AggregateNotFoundError:
        return {}
    return ring.users


def user(ledger: Ledger, name: str) -> User | None:
    """The person, if they exist and may sign in."""
    found = users(ledger).get(name)
    return found if found is not None and not found.disabled else None


def sign_in(ledger: Ledger, name: str, password: str) -> User | None:
    """The person whose name and password these are, or None (no hint which was wrong)."""
    found = user(ledger, name)
    if found is None:
        hash_password(password)  # as slow as a real try: the answer's time tells nothing
        return None
    return found if password_matches(found.password_hash, password) else None
