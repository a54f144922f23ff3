"""API keys and their roles, kept as events: only a hash of each key is ever stored.

Roles: ``admin`` (everything, key management), ``manager`` (everything but keys),
``collector`` (record facts and contacts, read; no write-off, no policy run),
``integration`` (sales, invoices, deliveries, payments, credit notes; read),
``auditor`` (read only, including history and audit verification).
"""

from __future__ import annotations

import hashlib
import secrets
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from huikuan.core.aggregate import ChainedAggregate
from huikuan.core.errors import InvalidCommand
from huikuan.core.ledger import Ledger

ROLES = ("admin", "manager", "collector", "integration", "auditor")
KEYRING_ID: UUID = uuid5(NAMESPACE_URL, "huikuan:api-keys")

log = structlog.get_logger("huikuan.keys")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing(ChainedAggregate):
    """Every API key ever issued, by hash, with its role."""

    TOPIC = "huikuan:KeyRing"

    class Event(ChainedAggregate.Event):
        TOPIC = "huikuan:KeyRing.Event"

    class Created(ChainedAggregate.Created):
        TOPIC = "huikuan:KeyRing.Created"

    class KeyIssued(Event):
        TOPIC = "huikuan:KeyRing.KeyIssued"
        key_id: str
        key_hash: str
        role: str

        def apply(self, ring: KeyRing) -> None:
            ring.keys[self.key_hash] = {"key_id": self.key_id, "role": self.role,
                                        "version": str(self.originator_version)}

    def __init__(self) -> None:
        self.keys: dict[str, dict[str, str]] = {}


def issue_key(ledger: Ledger, role: str) -> tuple[str, str]:
    """Make a new key for ``role``; returns (key id, the key). The key is shown once."""
    if role not in ROLES:
        raise InvalidCommand(f"role is one of {', '.join(ROLES)}", field="role")
    key = "hk_" + secrets.token_urlsafe(32)
    key_id = "key-" + secrets.token_hex(4)
    for _ in range(50):
        try:
            ring: KeyRing = ledger.get(KEYRING_ID)
        except AggregateNotFoundError:
            ring = KeyRing._create(KeyRing.Created, id=KEYRING_ID)
        ring.trigger_event(KeyRing.KeyIssued, key_id=key_id, key_hash=key_hash(key), role=role)
        try:
            ledger.save(ring)
        except IntegrityError:
            continue
        return key_id, key
    raise InvalidCommand("the key ring is busy; try again")


def role_of(ledger: Ledger, key: str) -> tuple[str, str] | None:
    """(key id, role) for a presented key, or None if it is unknown."""
    try:
        # Read only: no copy of the cached ring is needed.
        ring: KeyRing = ledger.get(KEYRING_ID, copy=False)
    except AggregateNotFoundError:
        return None
    found = ring.keys.get(key_hash(key))
    if found is None:
        return None
    # A key issued at or after the first event of the ring that does not verify (a
    # KeyIssued slipped into the store by hand, say) is refused; those before it hold.
    if int(found.get("version", "1")) >= _trusted_below(ledger, ring):
        return None
    return found["key_id"], found["role"]


def _trusted_below(ledger: Ledger, ring: KeyRing) -> int:
    """The first version of the key ring whose stored chain does not verify (past its
    end when all do), checked once per version of the ring."""
    from huikuan.core.audit import first_broken

    checked: tuple[int, str, int] | None = getattr(ledger, "_ring_checked", None)
    if checked is not None and checked[:2] == (ring.version, ring.chain_head):
        return checked[2]
    broken = first_broken(ledger, KEYRING_ID)
    if broken is not None:
        log.error("keys.ring_tampered", problem=broken[1])
    below = broken[0] if broken is not None else ring.version + 1
    ledger._ring_checked = (ring.version, ring.chain_head, below)  # type: ignore[attr-defined]
    return below
