"""Idempotent writes: same content records nothing, other content conflicts."""

from datetime import UTC, date, datetime

import pytest

from huikuan.core.commands import (
    AcknowledgeDebt,
    AgreePaymentPlan,
    BouncePayment,
    ConfirmDelivery,
    IssueCreditNote,
    LogContact,
    MakePromise,
    RaiseDispute,
    ReceivePayment,
    RegisterCustomer,
    ReportRiskSignal,
    ResolveDispute,
    WriteOff,
)
from huikuan.core.errors import Conflict
from tests.conftest import changed, invoice

D = date(2026, 3, 1)

COMMANDS = [
    invoice("I-2", "10.00", D, contract_ref="K-9"),
    ConfirmDelivery(invoice_id="I-1", delivered_on=D, receipt_ref="R-1", signed_by="王经理"),
    ReceivePayment(payment_id="P-1", amount="100.00", currency="CNY", received_on=D),
    IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1", amount="5.00", issued_on=D),
    RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="50.00", raised_on=D),
    LogContact(occurred_at=datetime(2026, 3, 1, 6, 30, tzinfo=UTC), channel="phone",
               direction="outbound", outcome="no_answer"),
    MakePromise(promise_id="PR-1", amount="100.00", due_on=date(2026, 3, 15), made_on=D,
                written=True),
    AgreePaymentPlan(plan_id="PL-1", agreed_on=D,
                     installments=[{"due_on": "2026-04-01", "amount": "100.00"}]),
    AcknowledgeDebt(acknowledged_on=D, document_ref="对账函-1"),
    ReportRiskSignal(signal="lawsuit", observed_on=D, note="sued by a supplier"),
    WriteOff(invoice_id="I-1", amount="1.00", written_off_on=D),
]


@pytest.fixture
def account(ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "1000.00", date(2026, 2, 1)))
    return "C-1"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_repeating_a_command_records_nothing(ledger, account, command):
    first = ledger.execute(account, command)
    assert first.recorded
    version = first.account.version
    again = ledger.execute(account, command)
    assert not again.recorded
    assert ledger.account(account).version == version


@pytest.mark.parametrize(
    ("command", "change"),
    [
        (COMMANDS[0], {"amount": "11.00"}),
        (COMMANDS[2], {"received_on": date(2026, 3, 2)}),
        (COMMANDS[3], {"reason": "another"}),
        (COMMANDS[4], {"amount": "40.00"}),
        (COMMANDS[6], {"due_on": date(2026, 3, 20)}),
    ],
    ids=lambda c: type(c).__name__ if not isinstance(c, dict) else "",
)
def test_the_same_id_with_different_content_is_a_conflict(ledger, account, command, change):
    ledger.execute(account, command)
    version = ledger.account(account).version
    with pytest.raises(Conflict, match="recorded before with different content"):
        ledger.execute(account, changed(command, **change))
    assert ledger.account(account).version == version


def test_a_repeated_payment_is_recognised_even_after_its_invoice_is_paid(ledger, account):
    pay = ReceivePayment(payment_id="P-1", amount="1000.00", currency="CNY", received_on=D)
    ledger.execute(account, pay)
    assert not ledger.execute(account, pay).recorded


def test_default_due_date_given_explicitly_is_the_same_invoice(ledger, account):
    again = invoice("I-1", "1000.00", date(2026, 2, 1), due_on=date(2026, 3, 3))
    assert not ledger.execute(account, again).recorded


def test_bounce_and_resolution_repeat_quietly(ledger, account):
    ledger.execute(account, COMMANDS[2])
    bounce = BouncePayment(payment_id="P-1", bounced_on=D)
    assert ledger.execute(account, bounce).recorded
    assert not ledger.execute(account, bounce).recorded
    ledger.execute(account, COMMANDS[4])
    resolve = ResolveDispute(dispute_id="D-1", resolved_on=D, outcome="rejected")
    assert ledger.execute(account, resolve).recorded
    assert not ledger.execute(account, resolve).recorded
    with pytest.raises(Conflict):
        ledger.execute(account, changed(resolve, outcome="credited"))


def test_registering_again(ledger):
    cmd = RegisterCustomer(customer_id="C-7", name="Acme", currency="CNY", credit_limit="5000",
                           contacts=[{"name": "李四", "phone": "+86 21 5555 0000"}])
    assert ledger.register_customer(cmd).recorded
    assert not ledger.register_customer(cmd).recorded
    # The same limit written differently is the same registration.
    assert not ledger.register_customer(changed(cmd, credit_limit="5000.00")).recorded
    with pytest.raises(Conflict, match="registered with different details"):
        ledger.register_customer(changed(cmd, currency="USD"))


def test_the_same_fact_written_differently_is_recognised(ledger, account):
    from datetime import timedelta, timezone

    ledger.execute(account, invoice("I-2", "100.00", date(2026, 2, 2)))
    split = [{"invoice_id": "I-1", "amount": "10.00"}, {"invoice_id": "I-2", "amount": "20.00"}]
    pay = ReceivePayment(payment_id="P-1", amount="30.00", currency="CNY", received_on=D,
                         allocations=split)
    assert ledger.execute(account, pay).recorded
    assert not ledger.execute(account, changed(pay, allocations=split[::-1])).recorded
    shanghai = datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=8)))
    call = LogContact(occurred_at=shanghai, channel="phone", direction="outbound",
                      outcome="reached")
    assert ledger.execute(account, call).recorded
    assert not ledger.execute(account, changed(call, occurred_at=shanghai.astimezone(UTC))
                              ).recorded
    ack = AcknowledgeDebt(acknowledged_on=D, invoice_ids=["I-1", "I-2"])
    assert ledger.execute(account, ack).recorded
    assert not ledger.execute(account, changed(ack, invoice_ids=["I-2", "I-1", "I-1"])).recorded
