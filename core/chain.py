"""Tamper evidence: each event of an account carries a hash chained to the one before.

``chain_hash`` of event *n* is ``sha256(chain_hash of event n-1 + canonical content of
event n)``, where the content is exactly what the store keeps of the event: its topic,
account id, version and stored state (all fields but the hash itself). So any single
event, the latest included, can be checked against its stored form and its
predecessor, and a removed or reordered event breaks the chain of the next one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS = ""


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
    """The chain hash of an event given its predecessor's hash and its own content."""
    return hashlib.sha256(previous_hash.encode("ascii") + b"\n" + content).hexdigest()
