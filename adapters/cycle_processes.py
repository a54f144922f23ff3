"""The daily cycle over more than one process: each reviews a share of the accounts.

A cycle's work is folding each account, checking its chain and asking the plugins, in
Python: one process uses one core. With ``HUIKUAN_CYCLE_PROCESSES`` (default: the
machine's cores, at most 4) and at least :data:`FROM_ACCOUNTS` accounts to review, the
run's process starts the others (fresh interpreters, ``spawn``: nothing of this
process's connections is shared), each opens the same store and plugins.toml, and
reviews its share; the run's process reviews its own, waits for the others, and
records the run's completion. Each account is reviewed by one process, in one atomic
save, exactly as one process would: the decisions are the same (tests compare them).

A helper that fails stops the run with the error, as a failure of the run's own process
would: the accounts already decided keep their decisions, and the next run (the same
date is allowed) decides the rest.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from uuid import UUID

from huikuan.adapters.logging import configured_level
from huikuan.core.cycle import CycleSummary

FROM_ACCOUNTS = 2000
"""Fewer accounts to review than this: one process (starting another costs a second)."""


def processes_from(env: Mapping[str, str]) -> int:
    """``HUIKUAN_CYCLE_PROCESSES``, or the machine's cores (at most 4)."""
    given = env.get("HUIKUAN_CYCLE_PROCESSES")
    if given:
        try:
            return max(1, int(given))
        except ValueError:
            msg = f"HUIKUAN_CYCLE_PROCESSES is a number of processes, not {given!r}"
            raise ValueError(msg) from None
    return max(1, min(os.cpu_count() or 1, 4))


class ProcessHelpers:
    """Reviews shares of a run in other processes on the same store and policy."""

    def __init__(self, env: Mapping[str, str], plugins: str | Path | None,
                 processes: int, from_accounts: int = FROM_ACCOUNTS) -> None:
        self.env = dict(env)
        self.plugins = str(plugins) if plugins is not None else None
        self.processes = processes
        self.from_accounts = from_accounts

    @contextmanager
    def review(self, as_of: date, shards: list[list[UUID]], *, due_only: bool,
               policy: str) -> Iterator[Callable[[], list[CycleSummary]]]:
        pool = ProcessPoolExecutor(max_workers=len(shards),
                                   mp_context=multiprocessing.get_context("spawn"))
        level = configured_level()
        futures: list[Future[CycleSummary]] = [
            pool.submit(review_share, self.env, self.plugins, as_of.isoformat(),
                        [str(i) for i in shard], due_only, policy, os.getpid(), level)
            for shard in shards]
        try:
            yield lambda: [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def review_share(env: dict[str, str], plugins: str | None, as_of: str, ids: list[str],
                 due_only: bool, policy: str, parent: int,
                 log_level: str | None = None) -> CycleSummary:
    """In a helper process: open the store and policy as the run's process did, and
    review these accounts for the run's date, as the cycle; refuse if the policy read
    here is not the run's, and stop if the run's process is gone (its lock with it:
    another run may start)."""
    from huikuan.adapters.bootstrap import bootstrap
    from huikuan.adapters.logging import configure_logging
    from huikuan.core.actor import CYCLE, acting_as
    from huikuan.core.cycle import CycleRunning

    # As the run's process logs (the command line at WARNING): not a line per account.
    configure_logging(level=log_level or env.get("HUIKUAN_LOG_LEVEL"))
    with bootstrap(env=env, plugins=plugins) as app, acting_as(CYCLE):
        if app.cycle.fingerprint() != policy:
            msg = ("plugins.toml changed since the cycle's process read it: run the cycle "
                   "again (its policy is read afresh)")
            raise CycleRunning(msg, field="as_of")
        return app.cycle.review(date.fromisoformat(as_of), [UUID(i) for i in ids],
                                due_only=due_only, going_on=lambda: os.getppid() == parent)
