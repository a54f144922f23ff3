"""Audit: check that every stored event is exactly what was recorded.

``verify`` reads the raw rows of the store in order and, for each event, checks:

1. its stored state can be decrypted, decompressed and decoded;
2. decoding and encoding it again gives the same bytes (nothing was re-written
   into an equivalent but different form);
3. it follows its account's previous event (no version missing);
4. its ``chain_hash`` equals the hash of its predecessor's hash and its own content.

A damaged row is reported, never raised. Snapshots are not audited: they are a
cache derived from the events and the ledger can rebuild without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from core import chain

PAGE = 1000
MAX_FAILURES_KEPT = 100


@dataclass(frozen=True)
class AuditFailure:
    """An event whose stored form no longer matches its chain."""

    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    reason: str
    customer_id: str | None = None


@dataclass
class AuditReport:
    events_checked: int = 0
    failures: list[AuditFailure] = field(default_factory=list)
    failure_count: int = 0

    @property
    def ok(self) -> bool:
        return self.failure_count == 0

    @property
    def first_failure(self) -> AuditFailure | None:
        return self.failures[0] if self.failures else None


def _decode(app: Application[Any], state: bytes) -> tuple[dict[str, Any], str | None]:
    """The event's state dict, and why it is not trustworthy (None if it is)."""
    mapper = app.mapper
    transcoder = mapper.transcoder
    try:
        plain = state
        if mapper.cipher:
            plain = mapper.cipher.decrypt(plain)
        if mapper.compressor:
            plain = mapper.compressor.decompress(plain)
        decoded = transcoder.decode(plain)
    except Exception as error:  # any damage may surface as any error: report it
        return {}, f"stored state cannot be decoded ({type(error).__name__})"
    if not isinstance(decoded, dict):
        return {}, "stored state is not an event"
    if isinstance(transcoder, JSONTranscoder) and transcoder.encode(decoded) != plain:
        return decoded, "stored state was re-written in a different form"
    return decoded, None


def verify(app: Application[Any]) -> AuditReport:
    """Walk every event of every account in the store and report what no longer matches."""
    report = AuditReport()
    # For each account: the version and chain hash of the last event seen.
    heads: dict[str, tuple[int, str | None]] = {}
    customers: dict[str, str] = {}
    last = 0
    while True:
        page = app.recorder.select_notifications(
            start=last, limit=PAGE, inclusive_of_start=False
        )
        if not page:
            return report
        for row in page:
            report.events_checked += 1
            originator = str(row.originator_id)
            state, problem = _decode(app, row.state)
            if isinstance(state.get("customer_id"), str) and row.originator_version == 1:
                customers[originator] = state["customer_id"]
            previous_version, previous_hash = heads.get(originator, (0, chain.GENESIS))
            stored_hash = state.get("chain_hash")
            if problem is None and previous_hash is None:
                problem = "cannot be checked: the event before it is damaged"
            if problem is None and row.originator_version != previous_version + 1:
                problem = (
                    f"follows version {previous_version}: "
                    f"{row.originator_version - previous_version - 1} event(s) missing"
                )
            if problem is None and not isinstance(stored_hash, str):
                problem = "event carries no chain hash"
            if problem is None:
                content = chain.stored_content(
                    row.topic, _uuid_or_str(row.originator_id), row.originator_version, state
                )
                if chain.link(previous_hash or "", content) != stored_hash:
                    problem = "content does not match its chain hash"
            if problem is not None:
                report.failure_count += 1
                if len(report.failures) < MAX_FAILURES_KEPT:
                    report.failures.append(
                        AuditFailure(
                            notification_id=row.id,
                            originator_id=originator,
                            originator_version=row.originator_version,
                            topic=row.topic,
                            reason=problem,
                            customer_id=customers.get(originator),
                        )
                    )
            # Link the next event to what is stored, so one damaged event is reported once.
            heads[originator] = (
                row.originator_version,
                stored_hash if isinstance(stored_hash, str) else None,
            )
        last = page[-1].id


def _uuid_or_str(value: Any) -> UUID | str:
    return value if isinstance(value, (UUID, str)) else str(value)
