"""Anchors (锚点): signed checkpoints of every chain head, kept outside the event store.

A hash chain shows an event changed or removed *before* another, never the removal
of an aggregate's latest events or of a whole aggregate: nothing left points back to
them. An anchor is a file recording, for every aggregate (accounts, the key ring, the
cycle log, the audit log), its event count and the chain hash of its last event, taken
by ``huikuan audit anchor`` and by the workers. ``audit verify`` then fails when the
store holds fewer events than an anchor says, an anchored aggregate is gone, or its
hash at the anchored version differs.

The anchors themselves are protected three ways:
- each file is signed: HMAC-SHA256 under the audit key when one is set, else a plain
  SHA-256 digest (which shows damage, not forgery; verify says ``signed: false``);
- anchors are numbered 1, 2, 3… and each names the signature of the one before, so a
  gap or a replaced anchor shows;
- each anchor taken is recorded as ``AnchorTaken`` on the store's ``AuditLog``, so
  deleting the latest anchor files shows too (the store says more were taken).

Files are written atomically and exclusively (a temporary file linked to its final
name, which fails if another process took that number first).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from huikuan.core.aggregate import ChainedAggregate
from huikuan.core.errors import DomainError

AUDIT_LOG_ID: UUID = uuid5(NAMESPACE_URL, "huikuan:audit-log")
FORMAT = "huikuan-anchor/1"
DEFAULT_FOLDER = "./var/anchors/"


class AuditLog(ChainedAggregate):
    """What the audit did to the store: the anchors taken (their number and signature)."""

    TOPIC = "huikuan:AuditLog"

    class Event(ChainedAggregate.Event):
        TOPIC = "huikuan:AuditLog.Event"

    class Created(ChainedAggregate.Created):
        TOPIC = "huikuan:AuditLog.Created"

    class AnchorTaken(Event):
        TOPIC = "huikuan:AuditLog.AnchorTaken"
        sequence: int
        taken_at: datetime
        signature: str

        def apply(self, log: AuditLog) -> None:
            log.anchors = self.sequence
            log.last_signature = self.signature

    anchors: int = 0
    """How many anchors were taken (the number of the latest)."""
    last_signature: str = ""


class AnchorRefused(DomainError):
    """An anchor would cover a loss (or the store does not verify): none was taken."""

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = reasons


@dataclass(frozen=True)
class Anchor:
    """One checkpoint: each aggregate's event count and last chain hash."""

    sequence: int
    taken_at: datetime
    previous: str
    """The signature of anchor ``sequence - 1`` ("" for the first)."""
    heads: dict[str, tuple[int, str]]
    """originator id -> (event count, chain hash of its last event)."""
    customers: dict[str, str] = field(default_factory=dict)
    signature: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "sequence": self.sequence,
            "taken_at": self.taken_at.isoformat(),
            "previous": self.previous,
            "aggregates": {
                o: {"version": v, "head": h, "customer_id": self.customers.get(o)}
                for o, (v, h) in sorted(self.heads.items())
            },
        }


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign(body: dict[str, Any], key: str | None) -> str:
    """``hmac-sha256:…`` under the audit key, or a plain ``sha256:…`` digest without one."""
    content = _canonical(body)
    if key:
        return "hmac-sha256:" + hmac.new(key.encode("utf-8"), content,
                                         hashlib.sha256).hexdigest()
    return "sha256:" + hashlib.sha256(content).hexdigest()


def signature_problem(body: dict[str, Any], signature: object, key: str | None) -> str | None:
    """Why an anchor's signature does not hold (None when it does)."""
    if not isinstance(signature, str):
        return "has no signature"
    if signature.startswith("hmac-sha256:"):
        if not key:
            return "is signed with the audit key: set HUIKUAN_AUDIT_KEY to check it"
    elif signature.startswith("sha256:"):
        if key:
            # With a key every anchor is signed: an unsigned one was made without it.
            return "is not signed though the audit key is set (forged?)"
    else:
        return "has a signature of no known kind"
    if not hmac.compare_digest(sign(body, key).encode(), signature.encode("utf-8")):
        return "does not match its signature (forged or damaged)"
    return None


@dataclass
class AnchorBook:
    """The folder of anchors (``HUIKUAN_AUDIT_ANCHOR``, default ``./var/anchors/``)."""

    folder: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AnchorBook:
        env = os.environ if environ is None else environ
        return cls(Path(env.get("HUIKUAN_AUDIT_ANCHOR") or DEFAULT_FOLDER))

    def path(self, sequence: int) -> Path:
        return self.folder / f"anchor-{sequence:08d}.json"

    def files(self) -> dict[int, Path]:
        """Every anchor file in the folder, by its number."""
        found: dict[int, Path] = {}
        if not self.folder.is_dir():
            return found
        for path in self.folder.glob("anchor-*.json"):
            number = path.stem.removeprefix("anchor-")
            if number.isdigit():
                found[int(number)] = path
        return found

    def write(self, anchor: Anchor) -> Path:
        """Write the anchor under its number, atomically; refuse a number already taken."""
        self.folder.mkdir(parents=True, exist_ok=True)
        document = {**anchor.body(), "signature": anchor.signature}
        final = self.path(anchor.sequence)
        temporary = self.folder / f".{final.name}.{os.getpid()}.tmp"
        with temporary.open("wb") as out:
            out.write(json.dumps(document, indent=1, sort_keys=True,
                                 ensure_ascii=False).encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, final)  # fails if another process took the number
        except FileExistsError:
            msg = f"anchor {anchor.sequence} was taken meanwhile; try again"
            raise AnchorRefused(msg, [msg]) from None
        finally:
            temporary.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # make the new name durable where possible
            directory = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return final


def read_anchor(path: Path) -> tuple[dict[str, Any] | None, object, str | None]:
    """(the anchor's body, its signature, why it cannot be read)."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        return None, None, f"cannot be read ({type(error).__name__})"
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None, None, "is not a huikuan anchor"
    signature = document.pop("signature", None)
    return document, signature, None


def anchored_heads(body: dict[str, Any]) -> dict[str, tuple[int, str]] | None:
    """The heads an anchor's body records, or None if they are malformed."""
    aggregates = body.get("aggregates")
    if not isinstance(aggregates, dict):
        return None
    heads: dict[str, tuple[int, str]] = {}
    for originator, entry in aggregates.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("version"), int)
                and isinstance(entry.get("head"), str)):
            return None
        heads[str(originator)] = (entry["version"], entry["head"])
    return heads


def latest_heads(book: AnchorBook, key: str | None) -> dict[str, tuple[int, str]] | None:
    """The heads of the latest anchor in the folder if its signature holds, else None."""
    files = book.files()
    if not files:
        return None
    body, signature, problem = read_anchor(files[max(files)])
    if body is None or problem is not None or signature_problem(body, signature, key):
        return None
    return anchored_heads(body)


def audit_log(ledger: Any) -> AuditLog | None:
    try:
        log: AuditLog = ledger.get(AUDIT_LOG_ID)
    except AggregateNotFoundError:
        return None
    return log


def record_anchor(ledger: Any, anchor: Anchor) -> None:
    """Record on the store's audit log that ``anchor`` was taken."""
    for _ in range(50):
        log = audit_log(ledger) or AuditLog._create(AuditLog.Created, id=AUDIT_LOG_ID)
        if log.anchors >= anchor.sequence:
            return
        log.trigger_event(AuditLog.AnchorTaken, sequence=anchor.sequence,
                          taken_at=anchor.taken_at, signature=anchor.signature)
        try:
            ledger.save(log)
        except IntegrityError:
            continue
        return
    msg = "the audit log is busy; try again"
    raise AnchorRefused(msg, [msg])


def take_anchor(ledger: Any, book: AnchorBook, now: datetime | None = None) -> Anchor:
    """Verify the store against the latest anchor and, if nothing is lost or damaged,
    record a new anchor of every chain head. Raises ``AnchorRefused`` otherwise."""
    from huikuan.core.audit import verify

    report = verify(ledger, book)
    if not report.ok:
        reasons = [
            f"{f.customer_id or f.originator_id} version {f.originator_version}: {f.reason}"
            for f in report.failures
        ]
        msg = (f"no anchor taken: {report.failure_count} problem(s) found; a new anchor "
               "must not cover a loss")
        raise AnchorRefused(msg, reasons)
    previous_number = max(report.anchor.sequence, audit_log_count(ledger))
    previous_signature = report.anchor.signature
    anchor = Anchor(
        sequence=previous_number + 1,
        taken_at=now or datetime.now(UTC),
        previous=previous_signature,
        heads={o: (v, h) for o, (v, h) in report.heads.items() if h is not None},
        customers=dict(report.customers),
    )
    anchor = Anchor(**{**vars(anchor), "signature": sign(anchor.body(), ledger.audit_key)})
    book.write(anchor)
    record_anchor(ledger, anchor)
    return anchor


def audit_log_count(ledger: Any) -> int:
    log = audit_log(ledger)
    return log.anchors if log else 0
