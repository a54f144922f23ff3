"""One dispatcher at a time across processes: a lock in the store's own database.

PostgreSQL: a session advisory lock. SQLite: an exclusive lock on a file beside the
database. Either is released when its holder ends, even by a crash.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

import psycopg

from huikuan.projections.db import ViewDatabase

LOCK_NAME = "huikuan-dispatcher"


def dispatcher_lock(env: Mapping[str, str]) -> Callable[[], AbstractContextManager[bool]]:
    db = ViewDatabase(env)

    @contextmanager
    def lock() -> Iterator[bool]:
        if db.kind == "postgres":
            key = zlib.crc32(LOCK_NAME.encode())
            with psycopg.connect(db.conninfo, autocommit=True) as conn:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                acquired = bool(row and row[0])
                try:
                    yield acquired
                finally:
                    if acquired:
                        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            return
        with open(f"{db.path}.dispatch.lock", "a+b") as handle:
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
