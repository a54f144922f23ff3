"""When a queued demand is obsolete (paid, disputed, promised or handed off since it was
queued), and when it must wait (a dunning stop).

A demand (reminder, notice, warning, lawyer's letter) or a task for a person is
cancelled before it goes out if nothing it demands is still owed undisputed (paid,
credited or disputed since it was queued), if since it was queued the customer
promised to pay or agreed a payment plan, or if everything it demands that is still
owed was handed off to a party (移交: the agency, the lawyer or the court pursues it now,
not huikuan). Other messages are left to other plugins.

A dunning stop (暂缓催收) holds, rather than cancels, a demand or task whose money still
owed is all under a stop on the sending day (in the customer's time zone): the stop is
temporary, and the ladder, whose clock stood still meanwhile, never queues a step's
demand twice, so a demand cancelled would be lost. It waits until the day after the
stop's last day (an open-ended stop: re-checked every ``HOLD_OPEN_ENDED``), or until the
stop is ended early (``PauseEnded`` makes it due at once); then it goes out written for
what is owed then. A demand about stopped and other money goes at once, written for the
other money only (core.outbox ``Dispatcher.restate``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from huikuan.core.plugin import (
    DEMANDS,
    AccountView,
    ContactVerdict,
    InvoiceView,
    MessageView,
    ObsoleteVerdict,
    OutgoingMessage,
    Settings,
    hookimpl,
)

HOLD_OPEN_ENDED = timedelta(days=30)
"""How long a message waits under a stop with no last day before it is looked at again
(ending the stop early makes it due at once)."""


def _concerned(message: MessageView) -> bool:
    return message.kind in DEMANDS or message.channel == "worklist"


def _owed(message: MessageView, account: AccountView) -> list[InvoiceView]:
    """The invoices a message is about that still have undisputed money open (a message
    about no invoice in particular: every such invoice)."""
    if not message.invoice_ids:
        return account.demandable()
    invoices = {i.invoice_id: i for i in account.invoices}
    return [invoices[i] for i in message.invoice_ids
            if i in invoices and invoices[i].undisputed_open > 0]


@hookimpl(trylast=True)
def huikuan_message_obsolete(
    message: MessageView, account: AccountView, settings: Settings
) -> ObsoleteVerdict | None:
    if not _concerned(message):
        return None
    owed = _owed(message, account)
    if message.invoice_ids and not owed:
        return ObsoleteVerdict(True, "nothing it demands is still owed undisputed")
    for promise in account.promises:
        if promise.status == "pending" and promise.made_on >= message.queued_on:
            return ObsoleteVerdict(True, f"the customer promised to pay by {promise.due_on}")
    for plan in account.plans:
        if plan.status == "active" and plan.agreed_on >= message.queued_on:
            return ObsoleteVerdict(True, "a payment plan was agreed")
    with_party = [c for c in account.cases if c.returned_on is None]
    if owed and with_party:
        cases = {c.handoff_id: c for c in with_party}
        holding = [next((c for c in cases.values() if c.covers(i.invoice_id)), None)
                   for i in owed]
        if all(holding):
            found = sorted({f"{c.handoff_id} ({c.to})" for c in holding if c is not None})
            return ObsoleteVerdict(True, "handed off: case " + ", ".join(found))
    return None


@hookimpl
def huikuan_contact_allowed(
    message: OutgoingMessage, account: AccountView, now: datetime, settings: Settings
) -> ContactVerdict | None:
    if not account.pauses:
        return None
    queued = next((m for m in account.messages if m.message_id == message.message_id), None)
    if queued is None or not _concerned(queued):
        return None
    zone = ZoneInfo(account.timezone)
    today = now.astimezone(zone).date()
    owed = _owed(queued, account)
    chaseable = {i.invoice_id for i in account.chaseable(today)}
    if not owed or any(i.invoice_id in chaseable for i in owed):
        return None  # something it demands may be demanded: it goes (restated)
    pauses = [p for p in (account.pause_of(i.invoice_id, today) for i in owed) if p]
    if not pauses:
        return None  # all with a party: the obsolete check cancels it
    ends = [datetime.combine(p.last_day + timedelta(days=1), time(), zone)
            for p in pauses if p.last_day is not None]
    # The first stop to end frees some money: the message goes then, written for it.
    until = min(ends) if ends else now + HOLD_OPEN_ENDED
    reasons = sorted({f"dunning stop {p.pause_id} until {p.last_day or 'ended'}: {p.reason}"
                      for p in pauses})
    return ContactVerdict(False, until, "; ".join(reasons))
