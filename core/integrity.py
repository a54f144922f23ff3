"""The ledger's guard (防篡改): a tampered aggregate is refused, never half-read.

An account whose stored events were changed, removed or forged by hand must not answer
its history from them, nor take new events on top of them (a write after its latest
events were deleted would take their version numbers and bury the loss). So, before
trusting an aggregate read from the store (not from the process's cache), the ledger
checks its chain (:func:`core.audit.chain_problem`) against the latest anchor, if one
was taken; a failure, or an error while folding its events, raises ``Tampered``.

Until an operator restores the store from a backup (or the aggregate's stored events
are otherwise made whole), every such read and write is refused with that problem.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from huikuan.core.anchors import AnchorBook, latest_heads
from huikuan.core.audit import chain_problem
from huikuan.core.errors import Tampered


class Guard:
    """Checks an aggregate's stored chain (and its latest anchor) before it is trusted."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.anchors: AnchorBook | None = None
        """Where the anchors are (the bootstrap sets it; None: chains alone)."""
        self._heads: tuple[object, dict[str, tuple[int, str]] | None] = (None, None)
        self.trusted: set[UUID] = set()
        """Aggregates whose stored chain this process checked before writing on them."""

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

    def gone(self, aggregate_id: UUID, what: str) -> Tampered | None:
        """Tampered, when an aggregate the store no longer has was anchored."""
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
