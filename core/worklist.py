"""The worklist (轻重缓急) for a business date: recorded, or asked of the plugins.

The views hold the queue the policy decided for the last cycle's date (and kept up as
facts arrived): that is the worklist people work from. For any other date, a manager
looking back or ahead, the plugins are asked now, for that date, over the accounts
with money open, and nothing is recorded. The views never ask a plugin; adapters call
:func:`worklist`, which does, as :func:`huikuan.core.credit.credit_check` does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from huikuan.core.account import Account
from huikuan.core.decisions import Priority
from huikuan.core.money import minor_units
from huikuan.core.plugin import AccountView, WorkPriority
from huikuan.core.policy import PolicyHost, view_of


class Queues(Protocol):
    """Whatever holds the decided queue and knows which accounts have money open."""

    asked: Asked
    """The plugins' answers for dates without a decided queue, kept per account."""

    def worklist_date(self, as_of: date | None, today: date) -> tuple[date, bool]: ...

    def worklist(self, collector: str | None, as_of: date | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]: ...

    def accounts_with_open_money(self, collector: str | None) -> Iterable[Account]: ...

    def open_account_versions(self, collector: str | None) -> list[tuple[UUID, int]]: ...

    def accounts_by_id(self, ids: Iterable[UUID]) -> Iterable[Account]: ...


def worklist(views: Queues, host: PolicyHost, collector: str | None, as_of: date | None,
             limit: int | None, today: date) -> list[dict[str, Any]]:
    """The queue, most urgent first (``limit``: only its head), for ``as_of``; without
    one, for the last cycle's date, or ``today`` before any cycle ran."""
    day, decided = views.worklist_date(as_of, today)
    if decided:
        return views.worklist(collector, day, limit)
    return views.asked.rank(views, host, collector, day, limit)


class Asked:
    """The plugins' place for each account on a date with no decided queue (before the
    first cycle, as right after an import; or a date looked back or ahead), kept while
    the account stays at the version it was asked for.

    Asking means folding the account and calling the plugin, about a millisecond each:
    a collector's queue of thousands of accounts took seconds at every look. Kept, each
    look asks only for the accounts that changed since (the views give every account's
    version in one query), so the first look for a date pays and the next ones do not.
    Nothing is recorded: this is the plugins' answer, as :func:`rank` gives it.
    """

    def __init__(self, keep: int = 500_000) -> None:
        self.keep = keep
        self._found: dict[tuple[int, UUID, date], tuple[int, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def rank(self, views: Queues, host: PolicyHost, collector: str | None, day: date,
             limit: int | None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        stale: list[UUID] = []
        with self._lock:
            for account_id, version in views.open_account_versions(collector):
                found = self._found.get((id(host), account_id, day))
                if found is None or found[0] != version:
                    stale.append(account_id)
                elif found[1] is not None:
                    rows.append(found[1])
        for account in views.accounts_by_id(stale):
            placed = rank([account], host, day)
            with self._lock:
                if len(self._found) >= self.keep:
                    self._found.clear()  # a new day's looks start afresh
                self._found[(id(host), account.id, day)] = (
                    account.version, placed[0] if placed else None)
            rows.extend(placed)
        return order(rows, limit)


def rank(accounts: Iterable[Account], host: PolicyHost, as_of: date,
         limit: int | None = None) -> list[dict[str, Any]]:
    """Ask the plugins (``huikuan_worklist_priority``) where each account stands on
    ``as_of``; an account they leave out, or with nothing to demand, is not listed."""

    def asked(account: Account, view: AccountView) -> WorkPriority | None:
        found: WorkPriority | None = host.decide(
            "huikuan_worklist_priority", account=view, as_of=as_of)
        return found

    return queue(accounts, asked, as_of, limit)


def queue(accounts: Iterable[Account],
          place: Callable[[Account, AccountView], WorkPriority | Priority | None],
          as_of: date, limit: int | None = None) -> list[dict[str, Any]]:
    """The worklist rows of ``accounts``, each at the ``place`` given for it (None, or a
    score of None: not listed), most urgent first; ``limit``: only the head. Shared by
    the plugins' answer for a date and the views' reading of what was recorded."""
    result: list[dict[str, Any]] = []
    for account in accounts:
        view = view_of(account)
        found = place(account, view)
        if found is None or found.score is None or not view.demandable():
            continue
        result.append({"customer_id": account.customer_id, "priority": found.score,
                       "reasons": list(found.reasons),
                       "suggested_action": found.suggested_action,
                       "overdue": view.undisputed_overdue(as_of), "currency": account.currency})
    return order(result, limit)


def order(rows: list[dict[str, Any]], limit: int | None = None) -> list[dict[str, Any]]:
    """Most urgent first; ties broken as the decided queue breaks them: overdue in minor
    units, then the customer. ``limit``: only the head."""
    rows.sort(key=lambda r: (-r["priority"], -int(r["overdue"].scaleb(minor_units(
        r["currency"]))), r["customer_id"]))
    return rows[:limit] if limit else rows
