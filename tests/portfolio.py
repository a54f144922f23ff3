"""A small, varied portfolio written through the ledger, for the projection tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from huikuan.core.commands import (
    BouncePayment,
    ConfirmDelivery,
    IssueCreditNote,
    LogContact,
    MakePromise,
    RaiseDispute,
    ReceivePayment,
    RegisterCustomer,
    ResolveDispute,
    WriteOff,
)
from huikuan.core.ledger import Ledger
from tests.conftest import invoice


def usd(invoice_id: str, amount: str, issued_on: date):
    return invoice(invoice_id, amount, issued_on).model_copy(update={"currency": "USD"})


def build(ledger: Ledger, step=lambda: None) -> None:
    """Three customers in two currencies and every kind of fact; ``step()`` after each write."""
    def do(customer_id, command):
        ledger.execute(customer_id, command)
        step()

    for customer_id, currency, collector in (("C-1", "CNY", "li.wei"), ("C-2", "CNY", "zhang.min"),
                                             ("C-3", "USD", "li.wei")):
        ledger.register_customer(RegisterCustomer(
            customer_id=customer_id, name=f"Customer {customer_id}", currency=currency,
            collector=collector, credit_limit="50000", registered_on=date(2026, 1, 1),
            contacts=[{"name": "AP", "email": f"ap@{customer_id.lower()}.example"}]))
        step()
    do("C-1", invoice("I-1", "1000.00", date(2026, 1, 1)))             # due 01-31
    do("C-1", invoice("I-2", "2000.00", date(2026, 2, 15)))            # due 03-17
    do("C-1", ConfirmDelivery(invoice_id="I-1", delivered_on=date(2026, 1, 3)))
    do("C-1", ReceivePayment(payment_id="P-1", amount="400.00", currency="CNY",
                             received_on=date(2026, 2, 10)))
    do("C-1", RaiseDispute(dispute_id="D-1", invoice_id="I-2", amount="500.00",
                           raised_on=date(2026, 3, 1)))
    do("C-1", MakePromise(promise_id="PR-1", amount="600.00", made_on=date(2026, 3, 2),
                          due_on=date(2026, 3, 10)))
    do("C-2", invoice("I-1", "5000.00", date(2025, 10, 1)))            # due 10-31
    do("C-2", ReceivePayment(payment_id="P-1", amount="5000.00", currency="CNY",
                             received_on=date(2026, 1, 5)))
    do("C-2", BouncePayment(payment_id="P-1", bounced_on=date(2026, 1, 12)))
    do("C-2", IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1", amount="300.00",
                              issued_on=date(2026, 2, 1)))
    do("C-2", WriteOff(invoice_id="I-1", amount="200.00", written_off_on=date(2026, 3, 1)))
    do("C-2", LogContact(occurred_at=datetime(2026, 2, 2, 3, tzinfo=UTC), channel="phone",
                         direction="outbound", outcome="no_answer"))
    do("C-3", usd("I-1", "800.00", date(2026, 1, 20)))                 # due 02-19
    do("C-3", ReceivePayment(payment_id="P-1", amount="1000.00", currency="USD",
                             received_on=date(2026, 1, 25)))
    do("C-3", usd("I-2", "700.00", date(2026, 2, 1)))                  # credit 200 applied
    do("C-3", RaiseDispute(dispute_id="D-1", invoice_id="I-2", amount="100.00",
                           raised_on=date(2026, 2, 5)))
    do("C-3", ResolveDispute(dispute_id="D-1", resolved_on=date(2026, 2, 20),
                             outcome="credited", credited_amount="100.00"))
