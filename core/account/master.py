"""The customer's master data (客户资料) as people keep it: name, collector, terms, limit…

Registration records the master data once (``Registered``, in core.account.aggregate);
every later change is a ``CustomerChanged``: only the fields that changed, with the values
they had before, dated ``effective_on``. From the moment it is recorded the account, the
read views and the cycle use the new values (a reassigned account is in its new
collector's queue at once); history as of a date before ``effective_on`` shows them as
they were. Payment terms are the one field whose date matters going forward: new terms
apply to invoices issued on or after ``effective_on`` and never re-date an invoice
already recorded (each change holds from its date until a later-dated one).

A change that changes nothing (the same values again: a retried request) records
nothing, so a change needs no client id to be safe to repeat.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from huikuan.core.account.events import Event
from huikuan.core.account.records import GRADES
from huikuan.core.account.state import AccountState
from huikuan.core.commands import MASTER_FIELDS
from huikuan.core.errors import InvalidCommand

LANGUAGES = ("zh-CN", "en")


def _plain(value: Any) -> Any:
    """A value with its empty parts left out, for comparing: a contact or an address
    given with ``"phone": null`` is the same as one given without a phone."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def with_terms(schedule: Iterable[Any], before: int, effective_on: date,
               days: int) -> list[list[Any]]:
    """The payment-terms schedule with ``days`` from ``effective_on``; ``before`` is the
    registration's terms, the first entry when the schedule is still empty. A change on a
    date already in the schedule follows it, so the one recorded last holds that day.
    Lists of ``[date, days]``, as a snapshot's JSON gives them back (the audit compares
    an account from its snapshot with the same from its events)."""
    entries = [[on, int(d)] for on, d in schedule] or [[date.min, before]]
    at = sum(1 for on, _ in entries if on <= effective_on)
    entries.insert(at, [effective_on, days])
    return entries


class MasterData(AccountState):
    """The customer's master data and its changes (客户资料变更)."""

    class CustomerChanged(Event):
        """The customer's master data changed: ``changes`` holds the new values of the
        fields that changed and nothing else, ``previous`` what they were just before."""

        TOPIC = "huikuan:Account.CustomerChanged"
        KIND: ClassVar[str] = "customer_change"  # for [audit] require_reason
        DATE_FIELD = "effective_on"
        CHANGES_INVOICES = False
        effective_on: date
        changes: dict[str, Any]
        previous: dict[str, Any]

        def apply(self, account: AccountState) -> None:
            if "payment_terms_days" in self.changes:
                account.terms_schedule = with_terms(
                    account.terms_schedule, account.payment_terms_days, self.effective_on,
                    self.changes["payment_terms_days"])
            for field in MASTER_FIELDS:
                if field in self.changes:
                    setattr(account, field, copy.deepcopy(self.changes[field]))
            # Terms, grade, tags or language may change what the policy does next.
            account.review_needed = True

    def change_customer(self, *, effective_on: date, currency: str | None = None,
                        **changes: Any) -> bool:
        """Record what differs in ``changes`` (master data fields) from the master data
        now; False when nothing does. ``currency``, if given, must be the account's own."""
        if currency is not None and currency != self.currency:
            msg = f"an account's currency cannot change (this one is kept in {self.currency})"
            raise InvalidCommand(msg, field="currency")
        unknown = sorted(set(changes) - set(MASTER_FIELDS))
        if unknown:
            raise InvalidCommand(f"{unknown[0]} is not master data", field=unknown[0])
        checked = self._checked_master(changes)
        current = self.master_data(on=effective_on)
        changed = {f: v for f, v in checked.items() if _plain(v) != _plain(current[f])}
        if not changed:
            return False
        self.trigger_event(self.CustomerChanged, effective_on=effective_on, changes=changed,
                           previous={f: current[f] for f in changed})
        return True

    def _checked_master(self, changes: dict[str, Any]) -> dict[str, Any]:
        checked = dict(changes)
        for field in ("name", "payment_terms_days", "timezone", "language", "tags",
                      "contacts"):
            if field in checked and checked[field] is None:
                raise InvalidCommand(f"{field} cannot be empty", field=field)
        if checked.get("name") is not None and not str(checked["name"]).strip():
            raise InvalidCommand("name cannot be empty", field="name")
        if checked.get("credit_limit") is not None:
            checked["credit_limit"] = self._money(
                checked["credit_limit"], field="credit_limit", allow_zero=True)
        terms = checked.get("payment_terms_days")
        if terms is not None and (not isinstance(terms, int) or terms < 0):
            raise InvalidCommand("payment terms are a whole number of days, not negative",
                                 field="payment_terms_days")
        if checked.get("credit_grade") is not None and checked["credit_grade"] not in GRADES:
            raise InvalidCommand("credit grade is one of A–E", field="credit_grade")
        if checked.get("language") is not None and checked["language"] not in LANGUAGES:
            raise InvalidCommand("language is zh-CN or en", field="language")
        if checked.get("timezone") is not None:
            try:
                ZoneInfo(checked["timezone"])
            except Exception:  # ZoneInfo raises several types for a bad key
                msg = f"{checked['timezone']!r} is not an IANA time zone"
                raise InvalidCommand(msg, field="timezone") from None
        if checked.get("tags") is not None:
            checked["tags"] = sorted(set(checked["tags"]))
        return checked

    # ---- queries

    def terms_changes(self) -> list[dict[str, Any]]:
        """The dated payment terms after the registration's: ``[{effective_on, days}]``."""
        return [{"effective_on": on, "days": int(days)}
                for on, days in list(self.terms_schedule)[1:]]

    def master_data(self, on: date | None = None) -> dict[str, Any]:
        """The master data now, a copy; ``payment_terms_days`` those in force on ``on``
        (the last set when no date is named)."""
        return {
            "name": self.name,
            "collector": self.collector,
            "payment_terms_days": self.payment_terms_days if on is None else self.terms_on(on),
            "credit_limit": self.credit_limit,
            "credit_grade": self.credit_grade,
            "timezone": self.timezone,
            "language": self.language,
            "tags": list(self.tags),
            "contacts": [dict(c) for c in self.contacts],
            "address": dict(self.address) if self.address is not None else None,
            "tax_id": self.tax_id,
        }
