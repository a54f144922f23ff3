"""The case work in the customer view: dunning stops, cases, guarantees, costs per currency.

The projector keeps one ``hk_case_files`` row per customer with any of these (their
stops, cases and guarantees as JSON, rewritten when one of their events arrives) and one
``hk_costs`` row per collection cost: the costs are a table to sum (per customer,
collector, date, currency, case) for the KPIs. A view as of a past date takes the same
shapes from the account replayed to that date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from huikuan.core.account import Account
from huikuan.core.ledger import Ledger
from huikuan.core.money import minor_units, zero

# The events that change what hk_case_files holds for an account.
CASE_FILE_EVENTS = (Account.DunningPaused, Account.PauseEnded, Account.HandedOff,
                    Account.HandoffUpdated, Account.GuaranteeRecorded)


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def case_file_row(account: Account) -> tuple[str, str, str, str]:
    """The account's ``hk_case_files`` row: its stops, cases and guarantees as JSON."""
    return (account.customer_id,
            json.dumps([_plain(p) for p in account.pauses.values()], ensure_ascii=False),
            json.dumps([_plain(c) for c in account.cases.values()], ensure_ascii=False),
            json.dumps([_plain(g) for g in account.guarantees.values()], ensure_ascii=False))


def cost_row(customer_id: str, event: Any, position: int) -> tuple[Any, ...]:
    """A ``hk_costs`` row: who collected the account then, when, how much, in what."""
    return (customer_id, event.cost_id, event.collector, event.incurred_on.isoformat(),
            int(event.amount.scaleb(minor_units(event.currency))), event.currency, event.kind,
            event.handoff_id, position)


def _last_day(pause: Mapping[str, Any]) -> date | None:
    ends = [date.fromisoformat(d) if isinstance(d, str) else d
            for d in (pause["until_on"],) if d is not None]
    if pause["ended_on"] is not None:
        ended = pause["ended_on"]
        ends.append((date.fromisoformat(ended) if isinstance(ended, str) else ended)
                    - timedelta(days=1))
    return min(ends) if ends else None


def shown(pauses: Iterable[Mapping[str, Any]], cases: Iterable[Mapping[str, Any]],
          guarantees: Iterable[Mapping[str, Any]], costs: Mapping[str, tuple[Decimal, int]],
          day: date) -> dict[str, Any]:
    """What the customer view adds: the stops not over by ``day`` (``active`` if one
    holds that day), every case, every guarantee, and the costs per currency."""
    found = []
    for pause in pauses:
        first = pause["from_on"]
        first = date.fromisoformat(first) if isinstance(first, str) else first
        last = _last_day(pause)
        if last is not None and last < day:
            continue  # over
        found.append({**pause, "last_day": last, "active": first <= day and (
            last is None or day <= last)})
    return {
        "pauses": found,
        "cases": [{k: v for k, v in c.items() if k not in ("message_id", "note")} | {
            "accepted_proposal": c.get("message_id"), "last_note": c.get("note")}
            for c in cases],
        "guarantees": list(guarantees),
        "costs": [{"currency": currency, "total": total, "count": count}
                  for currency, (total, count) in sorted(costs.items())],
    }


def shown_of(account: Account, day: date) -> dict[str, Any]:
    """The same for an account object (a view as of a past date)."""
    costs: dict[str, tuple[Decimal, int]] = {}
    for cost in account.costs.values():
        total, count = costs.get(cost["currency"], (zero(cost["currency"]), 0))
        costs[cost["currency"]] = (total + cost["amount"], count + 1)
    return shown(account.pauses.values(), account.cases.values(),
                 account.guarantees.values(), costs, day)


def proposal(ledger: Ledger, account: Account, message_id: str) -> dict[str, Any]:
    """The case a hand-off review task proposes (the default policy's last step): a
    hand-off of the task's invoices to the party the step names (``handoff_to``, as
    recorded with the decision that queued it), ready to post to
    ``/customers/{id}/handoffs`` with a ``handed_on`` (and a party). ``accepted_as``
    names the hand-off that accepted it, once one has."""
    message = account.messages[message_id]
    queued = next((e for e in ledger.events.get(account.id, desc=True)
                   if isinstance(e, Account.MessageQueued) and e.message_id == message_id),
                  None)
    to = str(queued.based_on.get("handoff_to", "agency")) if queued is not None else "agency"
    owed = [account.invoices[i] for i in message.invoice_ids
            if i in account.invoices and account.invoices[i].open_amount > 0]
    accepted = next((c["handoff_id"] for c in account.cases.values()
                     if c.get("message_id") == message_id), None)
    return {
        "handoff_id": "H-" + message_id.removeprefix("m-"),
        "to": to,
        "invoice_ids": [i.invoice_id for i in owed],
        "amount": sum((account.undisputed_open(i) for i in owed), zero(account.currency)),
        "currency": account.currency,
        "message_id": message_id,
        "accepted_as": accepted,
    }
