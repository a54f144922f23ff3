"""The limitation period (诉讼时效): three years, restarted by the debtor's acts.

Three years (``[limitation] years``) from the due date, or from the last instalment
of a payment plan agreed for the debt; restarted by an acknowledgment covering the
invoice, a written promise, or a payment settling part of it (PRC Civil Code arts.
188 and 195). A suit also interrupts it, but is not recorded here.
"""

from __future__ import annotations

from datetime import date

from huikuan.core.plugin import AccountView, InvoiceView, Settings, hookimpl


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@hookimpl(trylast=True)
def huikuan_limitation_deadline(
    invoice: InvoiceView, account: AccountView, settings: Settings
) -> date:
    years = int(settings.section("limitation").get("years", 3))
    start = invoice.due_on
    for plan in account.plans:
        if plan.agreed_on >= invoice.issued_on and plan.installments:
            start = max(start, plan.installments[-1].due_on)
    if invoice.acknowledged_on:
        start = max(start, invoice.acknowledged_on)
    for promise in account.promises:
        if promise.written and promise.made_on >= invoice.issued_on:
            start = max(start, promise.made_on)
    for payment in account.payments_settling(invoice.invoice_id):
        start = max(start, payment.received_on)
    return add_years(start, years)
