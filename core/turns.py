"""One at a time: the cycle and the dispatcher each run alone.

Adapters give them a lock shared by every process on a store
(``huikuan.adapters.locks``). Without one, :func:`in_this_process` keeps runs apart
within the process. Either way the lock never waits: it yields whether this run may
go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

Turn = Callable[[], AbstractContextManager[bool]]
"""Entered for a whole run; yields False when another run holds the turn."""


def in_this_process() -> Turn:
    """A turn shared by whoever holds this one, within this process only."""
    lock = threading.Lock()

    @contextmanager
    def turn() -> Iterator[bool]:
        acquired = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()

    return turn
