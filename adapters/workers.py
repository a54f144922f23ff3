"""Background work beside the API: the projection follower and the message dispatcher.

The API's lifespan starts them in threads; on PostgreSQL they can instead run as a
process of their own (``huikuan workers``) so the API scales out to several replicas.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import structlog

from huikuan.adapters.bootstrap import Huikuan
from huikuan.projections.views import Projector

log = structlog.get_logger("huikuan.workers")

DISPATCH_EVERY = float(os.environ.get("HUIKUAN_DISPATCH_EVERY", "10"))  # seconds


class Workers:
    """Threads following the events into the views and sending what the outbox holds."""

    def __init__(self, app: Huikuan) -> None:
        self.dispatcher = app.dispatcher
        self.stopping = threading.Event()
        # The follower has a projector (and a connection) of its own, apart from the
        # views' projector that the API's reads catch up through.
        self.projector = Projector(app.ledger)
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.threads = [
            threading.Thread(target=self._follow, name="projections", daemon=True),
            threading.Thread(target=self._dispatch, name="dispatcher", daemon=True),
        ]
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
