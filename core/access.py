"""API keys and their roles, kept as events on the key ring: a key's secret is never stored.

Roles: ``admin`` (everything, key management), ``manager`` (everything but keys),
``collector`` (record facts and contacts, read; no write-off, no policy run),
``integration`` (sales, invoices, deliveries, payments, credit notes; read),
``auditor`` (read only, including history and audit verification).

A key is ``hk_<8 hex>.<43 random characters>``: the hex digits name its key id
(``key-<8 hex>``), so the ring finds the key's record without trying every one, and the
ring keeps only ``hmac-sha256:<salt>:<digest>``, an HMAC-SHA256 of the whole key under a
random salt of its own. A key is 256 random bits: a salted hash is enough (a slow password
hash buys nothing against a guess that cannot succeed), and no two rings, or two keys,
share a hash. Keys issued before (``hk_`` + 43 characters, no dot) were recorded with a
plain SHA-256 of the key (``KeyIssued`` v1) and keep working until revoked.

A key works from its issue until it is revoked (``KeyRevoked``) or its ``expires_on``
date begins where the company is: on that date it no longer works.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from huikuan.core.aggregate import ChainedAggregate
from huikuan.core.errors import InvalidCommand, NotFound, Tampered
from huikuan.core.ledger import Ledger

ROLES = ("admin", "manager", "collector", "integration", "auditor")
Role = Literal["admin", "manager", "collector", "integration", "auditor"]
KEYRING_ID: UUID = uuid5(NAMESPACE_URL, "huikuan:api-keys")
KEYRING_TOPICS = ("huikuan:KeyRing.Created", "huikuan:KeyRing.KeyIssued",
                  "huikuan:KeyRing.KeyRevoked")
"""The key ring's events: shown to admin keys alone, and then without any key's hash."""

SEALED = "hmac-sha256:"
_KEY = re.compile(r"hk_([0-9a-f]{8})\.[A-Za-z0-9_-]{43}")

log = structlog.get_logger("huikuan.keys")


def key_hash(key: str) -> str:
    """The plain SHA-256 of a key, as ``KeyIssued`` v1 recorded it (before salted hashes)."""
    return hashlib.sha256(key.encode()).hexdigest()


def seal(key: str, salt: bytes) -> str:
    """What the ring keeps of a key: HMAC-SHA256 of the key under its own random salt."""
    digest = hmac.new(salt, key.encode(), hashlib.sha256).hexdigest()
    return f"{SEALED}{salt.hex()}:{digest}"


def _opens(sealed: str, key: str) -> bool:
    if sealed.startswith(SEALED):
        salt, _, digest = sealed.removeprefix(SEALED).partition(":")
        try:
            expected = seal(key, bytes.fromhex(salt))
        except ValueError:
            return False
        return hmac.compare_digest(expected, f"{SEALED}{salt}:{digest}")
    return hmac.compare_digest(key_hash(key), sealed)


@dataclass
class ApiKey:
    """One key as the ring knows it (never its secret)."""

    key_id: str
    role: str
    label: str
    created_at: datetime
    expires_on: date | None
    sealed: str
    issued_in: int
    """The ring's version that issued it (a key issued by a forged event is refused)."""
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and today >= self.expires_on

    def listed(self) -> dict[str, Any]:
        """What ``GET /v1/keys`` and ``huikuan keys list`` show: never the hash."""
        return {"key_id": self.key_id, "role": self.role, "label": self.label,
                "created_at": self.created_at, "expires_on": self.expires_on,
                "revoked": self.revoked, "revoked_at": self.revoked_at}


class KeyRing(ChainedAggregate):
    """Every API key ever issued (its id, role, label, expiry and salted hash), and
    every one revoked."""

    TOPIC = "huikuan:KeyRing"

    class Event(ChainedAggregate.Event):
        TOPIC = "huikuan:KeyRing.Event"

    class Created(ChainedAggregate.Created):
        TOPIC = "huikuan:KeyRing.Created"

    class KeyIssued(Event):
        """A key was made for a role. v2 adds the label and expiry, and ``key_hash`` is
        salted (``hmac-sha256:…``); v1 recorded a plain SHA-256."""

        TOPIC = "huikuan:KeyRing.KeyIssued"
        class_version = 2
        key_id: str
        key_hash: str
        role: str
        label: str
        expires_on: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["label"] = ""
            state["expires_on"] = None

        def apply(self, ring: KeyRing) -> None:
            key = ApiKey(key_id=self.key_id, role=self.role, label=self.label,
                         created_at=self.timestamp, expires_on=self.expires_on,
                         sealed=self.key_hash, issued_in=self.originator_version)
            ring.keys[self.key_id] = key
            if not self.key_hash.startswith(SEALED):
                ring.by_plain_hash[self.key_hash] = self.key_id

    class KeyRevoked(Event):
        """A key was revoked: from then on it is refused."""

        TOPIC = "huikuan:KeyRing.KeyRevoked"
        key_id: str

        def apply(self, ring: KeyRing) -> None:
            revoked = ring.keys.get(self.key_id)
            if revoked is not None:  # (a revocation is only ever recorded for a key issued)
                revoked.revoked_at = self.timestamp

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.by_plain_hash: dict[str, str] = {}
        """v1 keys: their plain SHA-256 -> key id."""

    def find(self, key: str) -> ApiKey | None:
        """The record of a presented key, if the ring issued it."""
        match = _KEY.fullmatch(key)
        if match is not None:
            found = self.keys.get(f"key-{match.group(1)}")
            return found if found is not None and _opens(found.sealed, key) else None
        key_id = self.by_plain_hash.get(key_hash(key))
        return self.keys.get(key_id) if key_id is not None else None


@dataclass(frozen=True)
class Issued:
    """A key just made: its record, and the key itself (shown this once)."""

    key: ApiKey
    secret: str


def _ring(ledger: Ledger) -> KeyRing:
    """The key ring to write on, vouched for by the guard (a new one if none yet)."""
    try:
        ring: KeyRing = ledger.checkout(KEYRING_ID, what="the key ring")
    except AggregateNotFoundError:
        ring = KeyRing._create(KeyRing.Created, id=KEYRING_ID)
    return ring


def _save(ledger: Ledger, ring: KeyRing) -> bool:
    try:
        ledger.save_checked(ring)
    except IntegrityError:
        return False  # another process wrote on the ring meanwhile: read it again
    ledger.checkin(ring)
    return True


def issue_key(ledger: Ledger, role: str, label: str = "",
              expires_on: date | None = None) -> tuple[str, str]:
    """Make a new key for ``role``; returns (key id, the key). The key is shown once."""
    issued = issue(ledger, role, label, expires_on)
    return issued.key.key_id, issued.secret


def issue(ledger: Ledger, role: str, label: str = "", expires_on: date | None = None) -> Issued:
    """Make a new key for ``role`` with a label and an optional expiry date."""
    if role not in ROLES:
        raise InvalidCommand(f"role is one of {', '.join(ROLES)}", field="role")
    for _ in range(50):
        ring = _ring(ledger)
        number = secrets.token_hex(4)
        if f"key-{number}" in ring.keys:
            continue  # one in four billion: draw again
        secret = f"hk_{number}.{secrets.token_urlsafe(32)}"
        ring.trigger_event(KeyRing.KeyIssued, key_id=f"key-{number}",
                           key_hash=seal(secret, secrets.token_bytes(16)), role=role,
                           label=label, expires_on=expires_on)
        if _save(ledger, ring):
            log.info("keys.issued", key_id=f"key-{number}", role=role)
            return Issued(ring.keys[f"key-{number}"], secret)
    raise InvalidCommand("the key ring is busy; try again")


def revoke_key(ledger: Ledger, key_id: str) -> tuple[ApiKey, bool]:
    """Revoke a key: from now on it is refused. Returns the key and whether this call
    revoked it (revoking it again records nothing)."""
    for _ in range(50):
        ring = _ring(ledger)
        found = ring.keys.get(key_id)
        if found is None or found.revoked:
            ledger.checkin(ring)  # unchanged (a new ring, never saved, is not kept)
            if found is None:
                raise NotFound(f"no key {key_id!r}", field="key_id")
            return found, False
        ring.trigger_event(KeyRing.KeyRevoked, key_id=key_id)
        if _save(ledger, ring):
            log.info("keys.revoked", key_id=key_id)
            return ring.keys[key_id], True
    raise InvalidCommand("the key ring is busy; try again")


def list_keys(ledger: Ledger) -> list[ApiKey]:
    """Every key ever issued, oldest first."""
    try:
        ring: KeyRing = ledger.get(KEYRING_ID)
    except AggregateNotFoundError:
        return []
    return sorted(ring.keys.values(), key=lambda k: k.issued_in)


@dataclass(frozen=True)
class Caller:
    """Who a presented key is: its id and role."""

    key_id: str
    role: str


@dataclass(frozen=True)
class Refusal:
    """Why a presented key is refused (safe to tell its holder)."""

    reason: str
    key_id: str | None = None


def identify(ledger: Ledger, key: str, today: date) -> Caller | Refusal:
    """The key id and role of a presented key, or why it is refused: unknown, revoked,
    expired, or issued by a key ring event that does not verify.

    Read fresh on every call (one query for the ring's new events, if any), so a key
    revoked by another process is refused here at once."""
    try:
        # Read only: no copy of the cached ring is needed.
        ring: KeyRing = ledger.get(KEYRING_ID, copy=False)
    except AggregateNotFoundError:
        return Refusal("unknown API key")
    except Tampered:  # gone though anchored, or its events cannot be folded
        log.error("keys.ring_tampered", problem="the key ring cannot be read")
        return Refusal("the key ring does not verify: no key is trusted")
    lost = _lost(ledger, ring)
    if lost is not None:
        log.error("keys.ring_tampered", problem=lost)
        return Refusal("the key ring does not verify: no key is trusted")
    found = ring.find(key)
    if found is None:
        return Refusal("unknown API key")
    if found.revoked:
        return Refusal(f"the API key {found.key_id} was revoked", found.key_id)
    if found.expired(today):
        return Refusal(f"the API key {found.key_id} expired on {found.expires_on}",
                       found.key_id)
    # A key issued at or after the first event of the ring that does not verify (a
    # KeyIssued slipped into the store by hand, say) is refused; those before it hold.
    if found.issued_in >= _trusted_below(ledger, ring):
        return Refusal("the key ring does not verify: this key is not trusted",
                       found.key_id)
    return Caller(found.key_id, found.role)


def role_of(ledger: Ledger, key: str, today: date | None = None) -> tuple[str, str] | None:
    """(key id, role) for a presented key that works today, or None."""
    found = identify(ledger, key, today or date.today())
    return (found.key_id, found.role) if isinstance(found, Caller) else None


def _lost(ledger: Ledger, ring: KeyRing) -> str | None:
    """Why the stored ring is behind what this process read (None when it is not): its
    latest events deleted, or its head rewritten. The revocations lost would bring keys
    back, so then no key is trusted. One query for the stored head."""
    from huikuan.core.audit import chain_hash_of, stored_head

    seen: tuple[int, str] = getattr(ledger, "_ring_seen", (0, ""))
    if ring.version > seen[0]:
        seen = (ring.version, ring.chain_head)
        ledger._ring_seen = seen  # type: ignore[attr-defined]
    head = stored_head(ledger, KEYRING_ID)
    if head is None or head.originator_version < seen[0]:
        return "events of the key ring this process read are gone"
    if head.originator_version == seen[0] and chain_hash_of(ledger, head) != seen[1]:
        return "the key ring's latest event was rewritten"
    return None


def _trusted_below(ledger: Ledger, ring: KeyRing) -> int:
    """The first version of the key ring whose stored chain does not verify (past its
    end when all do), checked once per version of the ring and latest anchor. A ring
    with fewer events than its latest anchor recorded trusts no key: the events lost
    may be revocations."""
    from huikuan.core.audit import first_broken

    anchored = ledger.guard.anchored().get(str(KEYRING_ID))
    checked: tuple[int, str, object, int] | None = getattr(ledger, "_ring_checked", None)
    if checked is not None and checked[:3] == (ring.version, ring.chain_head, anchored):
        return checked[3]
    broken = first_broken(ledger, KEYRING_ID, anchored)
    if broken is not None:
        log.error("keys.ring_tampered", problem=broken[1])
    below = broken[0] if broken is not None else ring.version + 1
    if anchored is not None and ring.version < anchored[0]:
        below = 0
    ledger._ring_checked = (  # type: ignore[attr-defined]
        ring.version, ring.chain_head, anchored, below)
    return below
