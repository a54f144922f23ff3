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

What a chain cannot show by itself is the removal of an account's *latest* events, or
of a whole account: nothing after them points back. Given the anchors
(:mod:`core.anchors`), verify also compares the store with the latest anchor: an
anchored aggregate with fewer events, gone, or with another hash at the anchored
version fails, as does a missing, out-of-sequence or forged anchor.

Keyed hashes (``k1:``, see :mod:`core.chain`) are checked with the ledger's audit key.
Once an event with a keyed hash is stored, every later event (in the store's order)
must be keyed too: a plain hash after it was written without the key, or re-chained
by someone who does not have it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from huikuan.core import chain
from huikuan.core.anchors import (
    AUDIT_LOG_ID,
    AnchorBook,
    AuditLog,
    anchored_heads,
    read_anchor,
    signature_problem,
)

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
class AnchorCheck:
    """How the store compares with its anchors (``ok`` with no anchor ever taken)."""

    ok: bool = True
    sequence: int = 0
    """The number of the latest anchor read (0: none)."""
    taken_at: str | None = None
    signed: bool = False
    """Signed under the audit key (HMAC), not a plain digest."""
    signature: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass
class AuditReport:
    events_checked: int = 0
    failures: list[AuditFailure] = field(default_factory=list)
    failure_count: int = 0
    snapshots_checked: int = 0
    heads_digest: str = ""
    heads: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    """Each aggregate's last version and chain hash, as stored."""
    customers: dict[str, str] = field(default_factory=dict)
    anchor: AnchorCheck = field(default_factory=AnchorCheck)

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


def verify(app: Application[Any], anchors: AnchorBook | None = None) -> AuditReport:
    """Walk every event of every aggregate in the store and report what no longer
    matches; with ``anchors``, compare the store with the latest anchor as well."""
    report = AuditReport()
    key: str | None = getattr(app, "audit_key", None)
    latest = _read_anchors(anchors, key, report.anchor) if anchors is not None else None
    # The hash each anchored aggregate has at its anchored version.
    at_anchor: dict[str, str | None] = {}
    anchors_recorded = 0
    signatures: dict[int, str] = {}  # the anchors' signatures, as the store recorded them
    keyed_seen = False
    # For each aggregate: the version and chain hash of the last event seen.
    heads = report.heads
    customers = report.customers
    last = 0
    while True:
        page = app.recorder.select_notifications(
            start=last, limit=PAGE, inclusive_of_start=False
        )
        if not page:
            _check_snapshots(app, report, heads, customers)
            lines = sorted(f"{o}:{v}:{h}" for o, (v, h) in heads.items())
            report.heads_digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
            if anchors is not None:
                _compare_with_anchor(report, latest, at_anchor, anchors_recorded,
                                     signatures)
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
            if problem is None and isinstance(stored_hash, str):
                content = chain.stored_content(
                    row.topic, _uuid_or_str(row.originator_id), row.originator_version, state
                )
                problem = chain.mismatch(previous_hash or "", content, stored_hash, key)
                if problem is None and chain.is_keyed(stored_hash):
                    keyed_seen = True
                elif problem is None and keyed_seen:
                    problem = ("plain hash after keyed events: written without the audit "
                               "key, or re-chained by someone without it")
            if latest is not None and latest.get(originator, (0, ""))[0] == \
                    row.originator_version:
                at_anchor[originator] = stored_hash if isinstance(stored_hash, str) else None
            if (problem is None and originator == str(AUDIT_LOG_ID)
                    and row.topic == AuditLog.AnchorTaken.TOPIC
                    and isinstance(state.get("sequence"), int)):
                anchors_recorded = max(anchors_recorded, state["sequence"])
                signatures[state["sequence"]] = str(state.get("signature"))
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


def _read_anchors(book: AnchorBook, key: str | None,
                  check: AnchorCheck) -> dict[str, tuple[int, str]] | None:
    """Check every anchor file (signature, numbering, link to the one before) and
    return the heads of the latest, or None when there is none to compare with."""
    files = book.files()
    previous_signature = ""
    latest: dict[str, tuple[int, str]] | None = None
    for number in range(1, max(files, default=0) + 1):
        path = files.get(number)
        if path is None:
            check.problems.append(f"anchor {number} is missing from {book.folder}")
            previous_signature = ""
            continue
        body, signature, problem = read_anchor(path)
        if body is not None and problem is None:
            problem = signature_problem(body, signature, key)
        if body is not None and problem is None and body.get("sequence") != number:
            problem = f"says it is anchor {body.get('sequence')!r}"
        if body is not None and problem is None and number > 1 and files.get(number - 1) \
                and previous_signature and body.get("previous") != previous_signature:
            problem = "does not follow the anchor before it (replaced?)"
        heads = anchored_heads(body) if body is not None and problem is None else None
        if body is not None and problem is None and heads is None:
            problem = "records no heads that can be read"
        if problem is not None:
            check.problems.append(f"anchor {number} {problem}")
            previous_signature = ""
            latest = None
            continue
        assert body is not None and isinstance(signature, str)
        previous_signature = signature
        latest = heads
        check.sequence = number
        check.taken_at = str(body.get("taken_at"))
        check.signed = signature.startswith("hmac-sha256:")
        check.signature = signature
    return latest


def _compare_with_anchor(report: AuditReport, latest: dict[str, tuple[int, str]] | None,
                         at_anchor: dict[str, str | None], anchors_recorded: int,
                         signatures: dict[int, str]) -> None:
    """Fail each anchored aggregate the store lost or changed, and a missing anchor."""
    check = report.anchor
    on_file = check.sequence
    recorded = signatures.get(on_file)
    if on_file and recorded is not None and recorded != check.signature:
        # Without a key anyone can recompute an anchor's digest, not the store's record.
        check.problems.append(f"anchor {on_file} is not the one the store recorded (forged?)")
    if anchors_recorded > on_file:
        check.problems.append(
            f"the store records {anchors_recorded} anchor(s) taken, the folder holds "
            f"{on_file}: anchor {anchors_recorded} is missing")
    for originator, (version, head) in sorted((latest or {}).items()):
        stored = report.heads.get(originator)
        who = report.customers.get(originator)
        reason = None
        if stored is None:
            reason = f"gone: anchor {on_file} recorded {version} event(s)"
        elif stored[0] < version:
            reason = (f"{version - stored[0]} event(s) missing: anchor {on_file} recorded "
                      f"{version}, the store holds {stored[0]}")
        elif at_anchor.get(originator) != head:
            reason = f"rewritten: its hash at version {version} differs from anchor {on_file}"
        if reason is not None:
            report.fail(AuditFailure(0, originator, version, "anchor", reason, who))
            check.ok = False
    for problem in check.problems:
        report.fail(AuditFailure(0, "", 0, "anchor", problem))
        check.ok = False


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


def chain_problem(app: Application[Any], originator_id: UUID,
                  anchored: tuple[int, str] | None = None) -> str | None:
    """Why one aggregate's stored chain does not hold (None when it does): the check
    ``verify`` makes, for one aggregate, cheap enough to make before trusting it; with
    ``anchored`` (version, hash from the latest anchor), that it still has them."""
    broken = first_broken(app, originator_id, anchored)
    return None if broken is None else broken[1]


@dataclass(frozen=True)
class Link:
    """The last event of an aggregate checked so far: where a later check goes on from."""

    version: int
    chain_hash: str
    keyed: bool
    """A keyed hash was seen on it: a plain one after it fails."""
    previous: str = chain.GENESIS
    """The chain hash of the event before it (to check it again in place)."""


GENESIS_LINK = Link(0, chain.GENESIS, keyed=False)


def first_broken(app: Application[Any], originator_id: UUID,
                 anchored: tuple[int, str] | None = None) -> tuple[int, str] | None:
    """(the first version that cannot be trusted, why), or None when the chain holds:
    the events before that version are intact."""
    return walk(app, originator_id, anchored)[1]


def follows(app: Application[Any], row: Any, link: Link) -> tuple[Link | None, str | None]:
    """Check one stored event as the one after ``link``: the new link, or why it fails."""
    state, problem = _decode(app, row.state)
    stored_hash = state.get("chain_hash")
    if problem is None and row.originator_version != link.version + 1:
        problem = f"version {link.version + 1} is missing"
    if problem is None and not isinstance(stored_hash, str):
        problem = "an event carries no chain hash"
    if problem is not None or not isinstance(stored_hash, str):
        return None, problem
    content = chain.stored_content(row.topic, _uuid_or_str(row.originator_id),
                                   row.originator_version, state)
    problem = chain.mismatch(link.chain_hash, content, stored_hash,
                             getattr(app, "audit_key", None))
    keyed = link.keyed or chain.is_keyed(stored_hash)
    if problem is None and link.keyed and not chain.is_keyed(stored_hash):
        problem = "a plain hash after keyed ones"
    if problem is not None:
        return None, problem
    return Link(row.originator_version, stored_hash, keyed, link.chain_hash), None


def walk(app: Application[Any], originator_id: UUID, anchored: tuple[int, str] | None = None,
         after: Link = GENESIS_LINK) -> tuple[Link, tuple[int, str] | None]:
    """Check an aggregate's stored events after ``after`` (all of them by default): the
    last event that holds, and (the first version that cannot be trusted, why) or None.
    With ``anchored``, an anchored version among those checked must have the anchored
    hash, and the aggregate must reach it."""
    link = after
    for row in app.recorder.select_events(originator_id, gt=after.version or None):
        following, problem = follows(app, row, link)
        if following is None:
            return link, (row.originator_version, f"version {row.originator_version}: {problem}")
        link = following
        if anchored is not None and anchored[0] == link.version and anchored[1] != link.chain_hash:
            return link, (1, f"version {link.version} differs from the latest anchor")
    if anchored is not None and link.version < anchored[0]:
        return link, (link.version + 1,
                      f"{anchored[0] - link.version} event(s) missing since the latest anchor")
    return link, None


def stored_head(app: Application[Any], originator_id: UUID) -> Any | None:
    """An aggregate's last stored event as the store keeps it (one query), or None when
    the store holds none."""
    rows = app.recorder.select_events(originator_id, desc=True, limit=1)
    return rows[0] if rows else None


def stored_hash_at(app: Application[Any], originator_id: UUID, version: int) -> str | None:
    """The chain hash stored with one event of an aggregate (None: none that reads)."""
    rows = app.recorder.select_events(originator_id, gt=version - 1, lte=version)
    return chain_hash_of(app, rows[0]) if rows else None


def chain_hash_of(app: Application[Any], row: Any) -> str | None:
    """The chain hash a stored event carries (None: none that reads)."""
    state, problem = _decode(app, row.state)
    found = state.get("chain_hash")
    return found if isinstance(found, str) and not problem else None


def _uuid_or_str(value: Any) -> UUID | str:
    return value if isinstance(value, (UUID, str)) else str(value)
