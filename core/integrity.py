"""The ledger's guard (防篡改): a tampered aggregate is refused, never half-read.

An account whose stored events were changed, removed or forged by hand must not answer
its history or its view from them, nor take new events on top of them (a write after
its latest events were deleted would take their version numbers and bury the loss). So,
before each write on an aggregate and each read of an account, the ledger *vouches* for
it (:meth:`Guard.vouch`): the first time in a process it checks the whole stored chain
(:func:`core.audit.walk`) against the latest anchor, if one was taken; later, one query
for the stored head shows whether anything changed since, and only what is new is
checked. A store whose head went back (events this process saw, or the anchor recorded,
are gone), a head rewritten in place, a chain that breaks, or events that cannot be
folded raise ``Tampered``.

Until an operator restores the store from a backup (or the aggregate's stored events
are otherwise made whole), every such read and write is refused with that problem.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from huikuan.core import chain
from huikuan.core.anchors import AnchorBook, latest_heads
from huikuan.core.audit import (
    GENESIS_LINK,
    Link,
    chain_problem,
    follows,
    stored_hash_at,
    stored_head,
    walk,
)
from huikuan.core.errors import Tampered


class Guard:
    """Checks an aggregate's stored chain (and its latest anchor) before it is trusted."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.anchors: AnchorBook | None = None
        """Where the anchors are (the bootstrap sets it; None: chains alone)."""
        self._heads: tuple[object, dict[str, tuple[int, str]] | None] = (None, None)
        self._seen: dict[UUID, tuple[Link, tuple[int, str] | None]] = {}
        """Per aggregate: the last event this process checked (or wrote), and the
        anchored head it was checked against."""
        self._lock = threading.Lock()

    def anchored(self) -> dict[str, tuple[int, str]]:
        """The latest anchor's heads, read again only when the folder's latest changes."""
        if self.anchors is None:
            return {}
        files = self.anchors.files()
        if not files:
            return {}
        path = files[max(files)]
        try:
            stamp: object = (path, path.stat().st_mtime_ns)
        except OSError:
            return {}
        if self._heads[0] != stamp:
            self._heads = (stamp, latest_heads(self.anchors, self.app.audit_key))
        return self._heads[1] or {}

    def problem(self, aggregate_id: UUID) -> str | None:
        """Why the aggregate's stored events cannot be trusted (None when they can)."""
        return chain_problem(self.app, aggregate_id, self.anchored().get(str(aggregate_id)))

    def check(self, aggregate_id: UUID, what: str) -> None:
        problem = self.problem(aggregate_id)
        if problem is not None:
            raise refused(what, problem)

    def vouch(self, aggregate_id: UUID, what: str) -> bool:
        """Raise ``Tampered`` unless the aggregate's stored events still hold; True when
        the store has the aggregate. One query when nothing changed since the last look
        (the last event is checked again in place)."""
        anchored = self.anchored().get(str(aggregate_id))
        # What this process saw, read before the store: the store only grows past it
        # (another thread's save is recorded here after it is stored), unless tampered.
        with self._lock:
            seen, seen_anchor = self._seen.get(aggregate_id, (None, None))
        head = stored_head(self.app, aggregate_id)
        if head is None:
            if seen is not None:
                raise refused(what, f"its {seen.version} event(s) are gone")
            if anchored is not None:
                raise refused(what, f"its {anchored[0]} anchored event(s) are gone")
            return False
        version = head.originator_version
        if seen is not None and version <= seen.version:
            if version < seen.version:
                raise refused(what, f"{seen.version - version} event(s) this process read "
                              "are gone")
            before = Link(version - 1, seen.previous, seen.keyed)
            again, problem = follows(self.app, head, before)
            if again is None or again.chain_hash != seen.chain_hash:
                raise refused(what, f"version {version} was changed since this process "
                              f"read it ({problem or 'another chain hash'})")
            if anchored == seen_anchor:
                return True
        start = seen if seen is not None else GENESIS_LINK
        if anchored is not None and anchored != seen_anchor and anchored[0] <= start.version \
                and stored_hash_at(self.app, aggregate_id, anchored[0]) != anchored[1]:
            raise refused(what, f"version {anchored[0]} differs from the latest anchor")
        link, broken = walk(self.app, aggregate_id, anchored, after=start)
        if broken is not None:
            raise refused(what, broken[1])
        self._remember(aggregate_id, link, anchored)
        return True

    def wrote(self, aggregate_id: UUID, events: list[Any]) -> None:
        """This process saved ``events`` on the aggregate: no need to read them back at
        the next look, if it had looked just before them."""
        if not events:
            return
        with self._lock:
            seen, seen_anchor = self._seen.get(aggregate_id, (None, None))
            if seen is None or seen.version != events[0].originator_version - 1:
                return
            link = seen
            for event in events:
                link = Link(event.originator_version, event.chain_hash,
                            link.keyed or chain.is_keyed(event.chain_hash), link.chain_hash)
            self._seen[aggregate_id] = (link, seen_anchor)

    def _remember(self, aggregate_id: UUID, link: Link,
                  anchored: tuple[int, str] | None) -> None:
        with self._lock:
            seen = self._seen.get(aggregate_id)
            if seen is None or seen[0].version <= link.version:
                self._seen[aggregate_id] = (link, anchored)

    def gone(self, aggregate_id: UUID, what: str) -> Tampered | None:
        """Tampered, when an aggregate the store no longer has was anchored (or read
        before by this process)."""
        with self._lock:
            seen = self._seen.get(aggregate_id)
        if seen is not None:
            return refused(what, f"its {seen[0].version} event(s) are gone")
        anchored = self.anchored().get(str(aggregate_id))
        if anchored is None:
            return None
        return refused(what, f"its {anchored[0]} anchored event(s) are gone")


def refused(what: str, problem: str) -> Tampered:
    return Tampered(
        f"{what}: its stored events do not verify ({problem}); nothing is read or recorded "
        "on it until an operator restores the store (huikuan audit verify names the damage)",
        field="customer_id",
    )
