"""The limitation period (诉讼时效): three years, restarted by the debtor's acts and ours.

Three years (``[limitation] years``) from the due date, or from the last instalment
of a payment plan agreed for the debt (PRC Civil Code art. 188). The period starts
again (诉讼时效中断, art. 195) from the day of:

- an acknowledgment covering the invoice, a written promise, or a payment settling
  part of it (the debtor's own acts);
- a demand (reminder, notice, warning, lawyer's letter) about the invoice that
  reached the debtor, as a recorded proof of delivery shows (a courier's tracking,
  a signed receipt): a demand merely sent proves nothing in court;
- a suit or an arbitration filed for the invoice or for the whole account.
"""

from __future__ import annotations

from datetime import date

from huikuan.core.plugin import DEMANDS, AccountView, InvoiceView, Settings, hookimpl


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def restarted_on(invoice: InvoiceView, account: AccountView) -> date:
    """The day the period of ``invoice`` last (re)started: its due date, or the latest
    act that restarted it."""
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
    for message in account.messages:
        if (message.kind in DEMANDS and message.delivered_on is not None
                and invoice.invoice_id in message.invoice_ids):
            start = max(start, message.delivered_on)
    for filing in account.filings:
        if filing.covers(invoice.invoice_id) and filing.filed_on >= invoice.issued_on:
            start = max(start, filing.filed_on)
    return start


@hookimpl(trylast=True)
def huikuan_limitation_deadline(
    invoice: InvoiceView, account: AccountView, settings: Settings
) -> date:
    years = int(settings.section("limitation").get("years", 3))
    return add_years(restarted_on(invoice, account), years)
