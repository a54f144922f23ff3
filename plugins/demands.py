"""When a queued demand is obsolete: paid, disputed or promised since it was queued.

A demand (reminder, notice, warning, lawyer's letter) or a task for a person is
cancelled before it goes out if nothing it demands is still owed undisputed (paid,
credited or disputed since it was queued), or if since it was queued the customer
promised to pay or agreed a payment plan. Other messages are left to other plugins.
A demand still wanted but for less than was queued is written again for what is owed
when it is sent (core.outbox ``Dispatcher.restate``).
"""

from __future__ import annotations

from huikuan.core.plugin import (
    DEMANDS,
    AccountView,
    MessageView,
    ObsoleteVerdict,
    Settings,
    hookimpl,
)


@hookimpl(trylast=True)
def huikuan_message_obsolete(
    message: MessageView, account: AccountView, settings: Settings
) -> ObsoleteVerdict | None:
    if message.kind not in DEMANDS and message.channel != "worklist":
        return None
    invoices = {i.invoice_id: i for i in account.invoices}
    demanded = [invoices[i] for i in message.invoice_ids if i in invoices]
    if message.invoice_ids and not any(i.undisputed_open > 0 for i in demanded):
        return ObsoleteVerdict(True, "nothing it demands is still owed undisputed")
    for promise in account.promises:
        if promise.status == "pending" and promise.made_on >= message.queued_on:
            return ObsoleteVerdict(True, f"the customer promised to pay by {promise.due_on}")
    for plan in account.plans:
        if plan.status == "active" and plan.agreed_on >= message.queued_on:
            return ObsoleteVerdict(True, "a payment plan was agreed")
    return None
