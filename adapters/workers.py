"""Background work beside the API: the projection follower, the message dispatcher and
the anchors (one after each cycle completed, and at least every ``HUIKUAN_ANCHOR_EVERY``
seconds, default an hour).

The API's lifespan starts them in threads; on PostgreSQL they can instead run as a
process of their own (``huikuan workers``) so the API scales out to several replicas.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from huikuan.adapters.bootstrap import Huikuan
from huikuan.core.anchors import AnchorBook, AnchorRefused, take_anchor
from huikuan.core.cycle import CYCLE_LOG_ID
from huikuan.core.errors import DomainError
from huikuan.core.ledger import Ledger
from huikuan.projections.views import Projector

log = structlog.get_logger("huikuan.workers")

DISPATCH_EVERY = float(os.environ.get("HUIKUAN_DISPATCH_EVERY", "10"))  # seconds
ANCHOR_EVERY = float(os.environ.get("HUIKUAN_ANCHOR_EVERY", "3600"))  # seconds
ANCHOR_LOOK_EVERY = 30.0  # seconds between looks for a completed cycle


class Anchoring:
    """Takes an anchor when a cycle has completed since the last one, or when the last
    is ``every`` old. ``clock`` is injected so a test moves time without sleeping."""

    def __init__(self, ledger: Ledger, book: AnchorBook, every: timedelta,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.ledger, self.book, self.every, self.clock = ledger, book, every, clock
        self.last_taken: datetime | None = None
        self.cycles_seen: int | None = None

    def _cycles(self) -> int:
        try:
            return int(self.ledger.get(CYCLE_LOG_ID, copy=False).version)
        except Exception:  # no cycle yet (or a log that does not load: verify says so)
            return 0

    def tick(self) -> bool:
        """Take an anchor if one is due; True if one was taken."""
        now, cycles = self.clock(), self._cycles()
        due = (self.last_taken is None or now - self.last_taken >= self.every
               or cycles != self.cycles_seen)
        if not due:
            return False
        try:
            anchor = take_anchor(self.ledger, self.book, now)
        except AnchorRefused as error:
            # Loud, and tried again at the next look: the refusal stands until restored.
            log.error("anchor.refused", reason=error.message, problems=error.reasons[:5])
            self.last_taken = now
            return False
        except DomainError as error:
            log.error("anchor.failed", reason=error.message)
            self.last_taken = now
            return False
        self.last_taken, self.cycles_seen = now, cycles
        log.info("anchor.taken", sequence=anchor.sequence, aggregates=len(anchor.heads))
        return True


class Workers:
    """Threads following the events into the views and sending what the outbox holds."""

    def __init__(self, app: Huikuan) -> None:
        self.dispatcher = app.dispatcher
        self.stopping = threading.Event()
        # The follower has a projector (and a connection) of its own, apart from the
        # views' projector that the API's reads catch up through.
        self.projector = Projector(app.ledger)
        self.threads: list[threading.Thread] = []
        book = app.ledger.guard.anchors
        self.anchoring = Anchoring(app.ledger, book, timedelta(seconds=ANCHOR_EVERY)) \
            if book is not None else None

    def start(self) -> None:
        self.threads = [
            threading.Thread(target=self._follow, name="projections", daemon=True),
            threading.Thread(target=self._dispatch, name="dispatcher", daemon=True),
        ]
        if self.anchoring is not None:
            self.threads.append(threading.Thread(target=self._anchor, name="anchors",
                                                 daemon=True))
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.projector.stop_following(self.stopping)
        for thread in self.threads:
            thread.join(timeout=30)
        self.projector.close()

    def _follow(self) -> None:
        try:
            self.projector.follow(self.stopping)
        except Exception as error:  # keep the API up; the next read catches up anyway
            log.error("projections.follow_failed", error=type(error).__name__)

    def _dispatch(self) -> None:
        while not self.stopping.wait(DISPATCH_EVERY):
            try:
                summary = self.dispatcher.run_once(datetime.now(UTC))
            except Exception as error:  # a bad message must not stop the outbox
                log.error("dispatch.failed", error=type(error).__name__)
                continue
            if summary.counts:
                log.info("dispatch.ran", **summary.counts)

    def _anchor(self) -> None:
        assert self.anchoring is not None
        while not self.stopping.wait(ANCHOR_LOOK_EVERY):
            try:
                self.anchoring.tick()
            except Exception as error:  # a full disk must not stop the other workers
                log.error("anchor.failed", error=type(error).__name__)
