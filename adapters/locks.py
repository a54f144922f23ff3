"""One at a time across processes: a lock in the store's own database.

PostgreSQL: a session advisory lock. SQLite: an exclusive lock on a file beside the
database. Either is released when its holder ends, even by a crash. A lock that is
taken is never waited for: the caller is told (``False``) and decides what to do.

Two locks: the dispatcher's, and the cycle's (one cycle per store, whatever its date).
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

import psycopg

from huikuan.projections.db import ViewDatabase

LOCK_NAME = "huikuan-dispatcher"
CYCLE_LOCK_NAME = "huikuan-cycle"


def dispatcher_lock(env: Mapping[str, str]) -> Callable[[], AbstractContextManager[bool]]:
    return _store_lock(ViewDatabase(env), zlib.crc32(LOCK_NAME.encode()), "dispatch")


def cycle_lock(env: Mapping[str, str]) -> Callable[[], AbstractContextManager[bool]]:
    """The cycle's lock on this store. On PostgreSQL it names the schema: stores that
    share a database (one schema each) run their cycles independently."""
    db = ViewDatabase(env)
    store = db.schema if db.kind == "postgres" else db.path
    return _store_lock(db, zlib.crc32(f"{CYCLE_LOCK_NAME}|{store}".encode()), "cycle")


def _store_lock(db: ViewDatabase, key: int,
                suffix: str) -> Callable[[], AbstractContextManager[bool]]:
    @contextmanager
    def lock() -> Iterator[bool]:
        if db.kind == "postgres":
            with psycopg.connect(db.conninfo, autocommit=True) as conn:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                acquired = bool(row and row[0])
                try:
                    yield acquired
                finally:
                    if acquired:
                        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            return
        # flock belongs to the open file, not the process: two opens in one process
        # (two request threads) exclude each other too.
        with open(f"{db.path}.{suffix}.lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    return lock
