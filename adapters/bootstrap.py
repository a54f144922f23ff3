"""huikuan put together from its settings, in one place (as cosmicpython's bootstrap.py).

The HTTP API, the command line and the workers all start here, so each reads the
environment the same way:

- ``HUIKUAN_DATABASE_URL`` and ``HUIKUAN_CIPHER_KEY``: where the events live and how
  they are encrypted (:mod:`huikuan.adapters.storage`);
- ``HUIKUAN_PLUGINS`` (default ``./plugins.toml``): which plugins run and how they are
  set (:mod:`huikuan.adapters.settings`), ``[company] timezone`` included, which says
  what "today" is when nobody names a date (:meth:`Huikuan.today`);
- ``HUIKUAN_AUDIT_KEY`` and ``HUIKUAN_AUDIT_ANCHOR`` (default ``./var/anchors/``): the
  key of the chain hashes and anchors, and the folder the anchors are kept in
  (:mod:`huikuan.core.anchors`).

The ledger opens at once, so a wrong URL is the first thing reported. Every other part
is built the first time it is asked for: a command that only reads an account neither
loads the plugins nor creates the read views (which a ``:memory:`` store cannot hold).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, overload

from huikuan.adapters.settings import load_settings, required_reasons
from huikuan.adapters.storage import open_ledger
from huikuan.core.anchors import AnchorBook
from huikuan.core.clock import company_today
from huikuan.core.ledger import Ledger
from huikuan.core.plugin import Settings
from huikuan.core.policy import PolicyHost

# Each part's module is imported where the part is built, so a command that only reads
# the ledger starts without them (the read views bring in psycopg even for SQLite).
if TYPE_CHECKING:
    from huikuan.core.account import Account
    from huikuan.core.cycle import DailyCycle
    from huikuan.core.outbox import Dispatcher
    from huikuan.projections.queries import Views
    from huikuan.projections.views import Projector


_T = TypeVar("_T")


class part(cached_property[_T]):
    """A part built on first use, once, whichever thread asks first: facts recorded
    from request threads ask for the policy (Python 3.12 dropped cached_property's lock)."""

    def __init__(self, build: Callable[[Any], _T]) -> None:
        super().__init__(build)
        self.lock = threading.RLock()

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> _T: ...
    def __get__(self, instance: object, owner: type[Any] | None = None) -> Self | _T:
        if instance is None:
            return self
        with self.lock:
            return super().__get__(instance, owner)


class Huikuan:
    """The parts of one huikuan: the ledger, the policy, the views, the cycle, the dispatcher.

    Parts are built on first use, once, and then kept.
    """

    def __init__(
        self,
        ledger: Ledger,
        env: Mapping[str, str],
        plugins: str | Path | None = None,
        host: PolicyHost | None = None,
    ) -> None:
        self.ledger = ledger
        self.env = env
        self.plugins = plugins
        self._given_host = host
        self.database_url: str | None = None
        """The store's URL when given apart from ``env`` (bootstrap's ``database_url``)."""
        # Facts recorded through this ledger are decided for by the policy at once.
        ledger.decide_after_facts = self._decide_after_facts
        # The kinds of fact that need a reason, read when a fact is recorded.
        ledger.require_reason = lambda: required_reasons(self.settings)

    @part
    def settings(self) -> Settings:
        """plugins.toml and the environment the plugins see (those of a given host)."""
        if self._given_host is not None:
            return self._given_host.settings
        return load_settings(self.plugins, self.env)

    @part
    def host(self) -> PolicyHost:
        """The policy: the plugins plugins.toml enables."""
        return self._given_host or PolicyHost(self.settings)

    @part
    def projector(self) -> Projector:
        """Folds the events into the read views (the views' own, for reads and rebuilds)."""
        from huikuan.projections.views import Projector

        return Projector(self.ledger)

    @part
    def views(self) -> Views:
        """Every query of the contract; call ``fresh()`` to read your own writes."""
        from huikuan.projections.queries import Views

        return Views(self.ledger, self.projector, today=self.today)

    @part
    def cycle(self) -> DailyCycle:
        """The daily collection cycle, reviewing the accounts the views say are due; one
        at a time on the store across processes (a lock in the store)."""
        from huikuan.adapters.cycle_processes import ProcessHelpers, processes_from
        from huikuan.adapters.locks import cycle_lock
        from huikuan.core.cycle import DailyCycle

        helpers = None
        name = self.ledger.env.get("SQLITE_DBNAME", "")
        # Other processes can open the same store and policy: not a database in this
        # process's memory, nor a policy a caller built (a test's own plugins).
        if self._given_host is None and name != ":memory:" and "memory" not in name:
            env = dict(self.env)
            if self.database_url:
                env["HUIKUAN_DATABASE_URL"] = self.database_url
            helpers = ProcessHelpers(env, self.plugins, processes_from(self.env))
        return DailyCycle(self.ledger, self.host, self.views,
                          lock=cycle_lock(self.ledger.env), helpers=helpers)

    @part
    def dispatcher(self) -> Dispatcher:
        """Sends queued messages; one at a time across processes (a lock in the store)."""
        from huikuan.adapters.locks import dispatcher_lock
        from huikuan.core.outbox import Dispatcher

        return Dispatcher(self.ledger, self.host, lock=dispatcher_lock(self.ledger.env))

    @part
    def _policy(self) -> DailyCycle:
        """The cycle's policy, without the views (a write needs no review schedule)."""
        from huikuan.core.cycle import DailyCycle

        return DailyCycle(self.ledger, self.host)

    def _decide_after_facts(self, account: Account) -> None:
        """The account decided again when facts arrive (core.after_facts): the class
        schedules of the invoices they change; once a cycle has run, also risk, the
        ladder's fall or hold, and what the views need, for the last cycle's date."""
        from huikuan.core.cycle import after_facts_date

        as_of = after_facts_date(self.ledger, account)
        self._policy.decide_after_facts(account, as_of, today=self.today())

    def today(self, now: datetime | None = None) -> date:
        """Today where the company is (``[company] timezone``), never the server's date."""
        return company_today(self.settings.sections, now)

    def close(self) -> None:
        """Close what was opened: the views' connections, the projector's, the ledger."""
        built = self.__dict__
        if "views" in built:
            self.views.close()
        if "projector" in built:
            self.projector.close()
        self.ledger.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def bootstrap(
    env: Mapping[str, str] | None = None,
    plugins: str | Path | None = None,
    database_url: str | None = None,
    *,
    host: PolicyHost | None = None,
) -> Huikuan:
    """huikuan as ``env`` (default: this process's environment) configures it.

    ``plugins`` and ``database_url`` override ``HUIKUAN_PLUGINS`` and
    ``HUIKUAN_DATABASE_URL``; ``host`` is a policy built elsewhere (a test's, with
    plugins of its own), used instead of the one plugins.toml describes.
    Raises :class:`~huikuan.adapters.storage.ConfigurationError` for a URL that cannot
    work, or a cipher key that is not one or does not open the store's events; a
    plugins.toml that cannot be used is reported when the policy is first asked for
    (:class:`~huikuan.adapters.settings.SettingsError`,
    :class:`~huikuan.core.policy.PluginError`).
    """
    environment = dict(os.environ if env is None else env)
    ledger = open_ledger(database_url, env=environment)
    ledger.guard.anchors = AnchorBook.from_env(environment)
    app = Huikuan(ledger, environment, plugins, host)
    app.database_url = database_url
    return app
