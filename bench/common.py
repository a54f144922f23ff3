"""What the benchmarks share: a fresh database per run, timing, and the report's rows."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from eventsourcing.application import Application

from huikuan.core.transcodings import register_all

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


@contextlib.contextmanager
def database(args: argparse.Namespace, name: str) -> Iterator[str]:
    """A fresh, empty database of the chosen kind, thrown away afterwards."""
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / (name + '.sqlite3')}"
        return
    import psycopg

    schema = f"bench_{name}_{os.getpid()}"
    with psycopg.connect(args.postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{args.postgres_url}?schema={schema}"
    finally:
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def report(name: str, value: str, baseline: str, ratio: str, target: str) -> None:
    print(f"| {name} | {value} | {baseline} | {ratio} | {target} |", flush=True)


class Baseline(Application[object]):
    """The library on its own: the same events and encoding, none of huikuan's work."""

    name = "baseline"

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)
