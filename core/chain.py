"""Tamper evidence: each event of an account carries a hash chained to the one before.

``chain_hash`` of event *n* is ``sha256(chain_hash of event n-1 + canonical content of
event n)``, where the content is exactly what the store keeps of the event: its topic,
account id, version and stored state (all fields but the hash itself). So any single
event, the latest included, can be checked against its stored form and its
predecessor, and a removed or reordered event breaks the chain of the next one.

Keyed chains (v2): when the process has an audit key (``HUIKUAN_AUDIT_KEY``, set by the
ledger through :func:`use_key`), a new event's hash is ``k1:`` + HMAC-SHA256 under that
key of the same bytes, so whoever rewrites an event without the key cannot give it a
hash that verifies. The prefix records the scheme in the hash itself: an event written
before the key was set keeps its plain hash (64 hex digits) and verifies with it.
One key per process: every ledger opened sets it (or clears it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS = ""
KEYED = "k1:"
"""The prefix of a hash keyed with the audit key (HMAC-SHA256)."""

_key: bytes | None = None


def use_key(key: str | None) -> None:
    """Key the hashes of the events this process records from now on (None: plain)."""
    global _key  # one audit key per process, set where the ledger opens
    _key = key.encode("utf-8") if key else None


def is_keyed(chain_hash: str) -> bool:
    return chain_hash.startswith(KEYED)


def _canonical(value: Any) -> Any:
    # Types are tagged so that, say, the string "2026-01-01" and the date differ.
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, UUID):
        return {"$uuid": value.hex}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if dataclasses_fields := getattr(value, "__dataclass_fields__", None):
        return {name: _canonical(getattr(value, name)) for name in dataclasses_fields}
    msg = f"cannot hash a value of type {type(value).__name__}"
    raise TypeError(msg)


def stored_content(
    topic: str, originator_id: UUID | str, originator_version: int, state: dict[str, Any]
) -> bytes:
    """The canonical bytes of an event as stored, without its own ``chain_hash``."""
    state = {k: v for k, v in state.items() if k != "chain_hash"}
    document = {
        "topic": topic,
        "originator_id": str(originator_id),
        "originator_version": originator_version,
        "state": _canonical(state),
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def link(previous_hash: str, content: bytes) -> str:
    """The chain hash of a new event given its predecessor's hash and its own content
    (keyed when the process has an audit key)."""
    return _hash(previous_hash, content, _key)


def _hash(previous_hash: str, content: bytes, key: bytes | None) -> str:
    # UTF-8 is ASCII for every hash huikuan writes; a tampered one must not raise.
    message = previous_hash.encode("utf-8") + b"\n" + content
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return KEYED + hmac.new(key, message, hashlib.sha256).hexdigest()


def mismatch(previous_hash: str, content: bytes, stored_hash: str,
             key: str | None) -> str | None:
    """Why ``stored_hash`` is not this event's hash (None if it is), checked with the
    scheme it was written with: plain SHA-256, or keyed under ``key``."""
    if is_keyed(stored_hash):
        if not key:
            return "keyed with the audit key: set HUIKUAN_AUDIT_KEY to check it"
        expected = _hash(previous_hash, content, key.encode("utf-8"))
    else:
        expected = _hash(previous_hash, content, None)
    if not hmac.compare_digest(expected.encode(), stored_hash.encode("utf-8")):
        return "content does not match its chain hash"
    return None
