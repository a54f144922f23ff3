"""A thin connection to the event store's own database, for the read tables.

The views live beside the events (SQLite file or PostgreSQL schema), so a view and
its tracking position are written in one transaction. Amounts are stored as integers
in minor units (分): exact in both databases, and summable by SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from huikuan.projections.sealing import Sealer


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class ViewDatabase:
    """One connection per call site; SQL written with ``?`` placeholders for both backends."""

    def __init__(self, env: Mapping[str, str]) -> None:
        module = env.get("PERSISTENCE_MODULE", "")
        self.env = dict(env)
        # The events' cipher key seals the views' personal columns too (a key of its own
        # is derived from it): see huikuan.projections.sealing.
        self.sealer = Sealer(env.get("CIPHER_KEY"))
        if module.endswith("sqlite"):
            self.kind = "sqlite"
            path = env["SQLITE_DBNAME"]
            if path == ":memory:" or "mode=memory" in path:
                msg = "the read views need a database file (not :memory:)"
                raise ValueError(msg)
            self.path = path
        elif module.endswith("postgres"):
            self.kind = "postgres"
            self.conninfo = psycopg.conninfo.make_conninfo(
                dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                port=env.get("POSTGRES_PORT", "5432"), user=env["POSTGRES_USER"],
                password=env.get("POSTGRES_PASSWORD") or None,
            )
            self.schema = env.get("POSTGRES_SCHEMA") or "public"
        else:
            msg = f"no read views for persistence module {module!r}"
            raise ValueError(msg)

    def connect(self) -> Any:
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # SQLite's own LOWER folds ASCII letters only; PostgreSQL's, like Python's,
            # folds every letter (É, Ä…): the same answer to a search on both.
            conn.create_function("lower", 1, _lower, deterministic=True)
            if self.sealer.sealing:
                # What is deleted is overwritten, not left in free pages: views once
                # written in clear leave nothing readable behind when folded again sealed.
                conn.execute("PRAGMA secure_delete=ON")
            return conn
        pg = psycopg.connect(self.conninfo, autocommit=True)
        pg.execute(f'SET search_path TO "{self.schema}"')
        return pg

    def sql(self, statement: str) -> str:
        return statement if self.kind == "sqlite" else statement.replace("?", "%s")

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[Any]:
        """BEGIN … COMMIT on ``conn`` (ROLLBACK on error); yields a cursor."""
        if self.kind == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        else:
            with conn.transaction():
                yield conn.cursor()

    def execute(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        return cursor.execute(self.sql(statement), tuple(params))

    def executemany(self, cursor: Any, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            cursor.executemany(self.sql(statement), [tuple(r) for r in rows])

    def query(self, conn: Any, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        cursor = conn.execute(self.sql(statement), tuple(params))
        return list(cursor.fetchall())

    def has_table(self, conn: Any, name: str) -> bool:
        if self.kind == "sqlite":
            found = self.query(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                               "AND name = ?", (name,))
        else:
            found = self.query(conn, "SELECT 1 FROM information_schema.tables "
                               "WHERE table_schema = ? AND table_name = ?", (self.schema, name))
        return bool(found)
