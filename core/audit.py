"""Audit: check that every stored event is exactly what was recorded.

``verify`` reads the raw rows of the store in order and, for each event, checks:

1. its stored state can be decrypted, decompressed and decoded;
2. decoding and encoding it again gives the same bytes (nothing was re-written
   into an equivalent but different form);
3. it follows its account's previous event (no version missing);
4. its ``chain_hash`` equals the hash of its predecessor's hash and its own content.

Snapshots (a cache the ledger reads from) are checked too: each must equal the
state its account's events give at that version. A damaged row is reported, never
raised.

What a chain cannot show by itself is the removal of an account's *latest* events:
nothing after them points back. ``heads_digest`` condenses every account's last
version and hash; keep it somewhere else after each audit and compare next time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from huikuan.core import chain

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
    snapshots_checked: int = 0
    heads_digest: str = ""

    def fail(self, failure: AuditFailure) -> None:
        self.failure_count += 1
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append(failure)

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
            _check_snapshots(app, report, heads, customers)
            lines = sorted(f"{o}:{v}:{h}" for o, (v, h) in heads.items())
            report.heads_digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
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
                report.fail(
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


def _check_snapshots(app: Application[Any], report: AuditReport,
                     heads: dict[str, tuple[int, str | None]],
                     customers: dict[str, str]) -> None:
    """Each snapshot must equal the state its account's own events give at its version."""
    if app.snapshots is None:
        return
    for originator in heads:
        account_id = UUID(originator)
        try:
            snapshots = list(app.snapshots.get(account_id))
        except Exception as error:  # a damaged snapshot row: report, do not raise
            report.fail(AuditFailure(0, originator, 0, "snapshot",
                                     f"snapshot cannot be decoded ({type(error).__name__})",
                                     customers.get(originator)))
            continue
        for snapshot in snapshots:
            report.snapshots_checked += 1
            try:
                from_snapshot = snapshot.mutate(None)  # type: ignore[attr-defined]
                from_events = None
                for event in app.events.get(account_id, lte=snapshot.originator_version):
                    from_events = event.mutate(from_events)  # type: ignore[attr-defined]
                same = from_events is not None and vars(from_snapshot) == vars(from_events)
            except Exception:  # any damage may surface as any error: report it
                same = False
            if not same:
                report.fail(AuditFailure(0, originator, snapshot.originator_version,
                                         "snapshot", "snapshot does not match the events",
                                         customers.get(originator)))


def _uuid_or_str(value: Any) -> UUID | str:
    return value if isinstance(value, (UUID, str)) else str(value)
