"""Rules at the door: each invariant of an account refuses with a clear error, records nothing."""

from datetime import date

import pytest
from pydantic import ValidationError

from huikuan.core.commands import (
    AgreePaymentPlan,
    BouncePayment,
    IssueCreditNote,
    MakePromise,
    RaiseDispute,
    ReceivePayment,
    RegisterCustomer,
    ResolveDispute,
    WriteOff,
)
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from tests.conftest import changed, invoice

D = date(2026, 3, 1)


def payment(payment_id, amount, received_on=D, **fields):
    return ReceivePayment.model_validate(
        {"payment_id": payment_id, "amount": amount, "currency": "CNY",
         "received_on": received_on, **fields}
    )


@pytest.fixture
def account(ledger, customer):
    """C-1 with invoice I-1 of 1000.00 issued 2026-02-01 (due 2026-03-03)."""
    customer()
    ledger.execute("C-1", invoice("I-1", "1000.00", date(2026, 2, 1)))
    return "C-1"


def refused(ledger, account_id, command, error, match):
    """Assert the command is refused with ``error`` and records nothing."""
    version = ledger.account(account_id).version
    with pytest.raises(error, match=match) as caught:
        ledger.execute(account_id, command)
    assert ledger.account(account_id).version == version
    return caught.value


def test_one_currency_per_account(ledger, account):
    error = refused(
        ledger, account,
        changed(invoice("I-2", "10.00", D), **{"currency": "USD"}),
        InvalidCommand, "kept in CNY, not USD",
    )
    assert error.field == "currency"
    refused(ledger, account, changed(payment("P-1", "10.00"), currency="EUR"),
            InvalidCommand, "kept in CNY")


def test_amounts_respect_the_currencys_minor_units(ledger, account):
    error = refused(ledger, account, invoice("I-2", "10.005", D), InvalidCommand,
                    "CNY has 2 decimal places")
    assert error.field == "amount"


def test_jpy_accounts_take_no_fractions(ledger, customer):
    customer("C-JP", currency="JPY")
    cmd = changed(invoice("I-1", "100.5", D), **{"currency": "JPY"})
    refused(ledger, "C-JP", cmd, InvalidCommand, "JPY has 0 decimal places")


@pytest.mark.parametrize("amount", ["0", "-5.00", 1.5, "1e400", "NaN"])
def test_no_negative_zero_or_float_amounts(amount):
    with pytest.raises(ValidationError) as caught:
        invoice("I-2", amount, D)
    assert caught.value.errors()[0]["loc"] == ("amount",)


def test_due_date_not_before_issue_date(ledger, account):
    error = refused(ledger, account, invoice("I-2", "10.00", D, due_on=date(2026, 2, 28)),
                    InvalidCommand, "due date is before the issue date")
    assert error.field == "due_on"


def test_due_date_defaults_to_issue_date_plus_terms(ledger, customer):
    customer("C-45", payment_terms_days=45)
    outcome = ledger.execute("C-45", invoice("I-1", "10.00", date(2026, 1, 10)))
    assert outcome.account.invoices["I-1"].due_on == date(2026, 2, 24)


def test_no_allocation_to_an_unknown_invoice(ledger, account):
    error = refused(ledger, account,
                    payment("P-1", "10.00",
                            allocations=[{"invoice_id": "NOPE", "amount": "10.00"}]),
                    NotFound, "no invoice 'NOPE'")
    assert error.field == "allocations[0].invoice_id"


def test_no_allocation_beyond_the_open_amount(ledger, account):
    refused(ledger, account,
            payment("P-1", "1500.00", allocations=[{"invoice_id": "I-1", "amount": "1000.01"}]),
            InvalidCommand, "exceeds its open amount 1000.00")
    # Two allocations to one invoice count together.
    refused(ledger, account,
            payment("P-1", "1500.00", allocations=[{"invoice_id": "I-1", "amount": "600.00"},
                                                  {"invoice_id": "I-1", "amount": "600.00"}]),
            InvalidCommand, "exceeds its open amount")


def test_allocations_cannot_exceed_the_payment(ledger, account):
    refused(ledger, account,
            payment("P-1", "10.00", allocations=[{"invoice_id": "I-1", "amount": "20.00"}]),
            InvalidCommand, "more than the payment")


def test_no_allocation_to_an_invoice_issued_after_the_payment(ledger, account):
    refused(ledger, account,
            payment("P-1", "10.00", received_on=date(2026, 1, 15),
                    allocations=[{"invoice_id": "I-1", "amount": "10.00"}]),
            InvalidCommand, "issued after the payment was received")


def test_a_dispute_not_beyond_the_open_amount(ledger, account):
    refused(ledger, account,
            RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="1000.01", raised_on=D),
            InvalidCommand, "exceeds the undisputed open amount 1000.00")
    ledger.execute(account, RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="600.00",
                                         raised_on=D))
    # A second dispute only has the undisputed rest.
    refused(ledger, account,
            RaiseDispute(dispute_id="D-2", invoice_id="I-1", amount="400.01", raised_on=D),
            InvalidCommand, "undisputed open amount 400.00")


def test_no_bounce_of_an_unknown_payment(ledger, account):
    error = refused(ledger, account, BouncePayment(payment_id="P-X", bounced_on=D),
                    NotFound, "no payment 'P-X'")
    assert error.field == "payment_id"


def test_no_second_bounce_of_a_payment(ledger, account):
    ledger.execute(account, payment("P-1", "100.00"))
    ledger.execute(account, BouncePayment(payment_id="P-1", bounced_on=D))
    refused(ledger, account, BouncePayment(payment_id="P-1", bounced_on=date(2026, 3, 2)),
            Conflict, "recorded before with different content")


def test_a_bounce_not_before_the_payment(ledger, account):
    ledger.execute(account, payment("P-1", "100.00"))
    refused(ledger, account, BouncePayment(payment_id="P-1", bounced_on=date(2026, 2, 27)),
            InvalidCommand, "cannot bounce before it was received")


def test_credit_notes_and_write_offs_not_beyond_the_open_amount(ledger, account):
    refused(ledger, account,
            IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1", amount="1000.01",
                            issued_on=D),
            InvalidCommand, "credit note of 1000.01 exceeds the open amount 1000.00")
    refused(ledger, account,
            WriteOff(invoice_id="I-1", amount="2000.00", written_off_on=D),
            InvalidCommand, "write-off of 2000.00 exceeds the open amount")


def test_facts_about_an_invoice_cannot_predate_it(ledger, account):
    refused(ledger, account,
            IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1", amount="1.00",
                            issued_on=date(2026, 1, 31)),
            InvalidCommand, "before invoice 'I-1' was issued")


def test_unknown_customer_is_not_found(ledger):
    with pytest.raises(NotFound, match="no customer 'GHOST'"):
        ledger.execute("GHOST", invoice("I-1", "1.00", D))


def test_resolving_a_dispute(ledger, account):
    ledger.execute(account, RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="300.00",
                                         raised_on=D))
    refused(ledger, account,
            ResolveDispute(dispute_id="D-1", resolved_on=D, outcome="credited",
                           credited_amount="300.01"),
            InvalidCommand, "exceeds the disputed amount 300.00")
    refused(ledger, account,
            ResolveDispute(dispute_id="D-9", resolved_on=D, outcome="rejected"),
            NotFound, "no dispute 'D-9'")
    outcome = ledger.execute(account, ResolveDispute(dispute_id="D-1", resolved_on=D,
                                                     outcome="credited"))
    assert outcome.account.invoices["I-1"].open_amount == 700
    assert outcome.account.disputed == 0


def test_promises_and_plans_must_make_sense(ledger, account):
    refused(ledger, account,
            MakePromise(promise_id="PR-1", amount="10.00", due_on=date(2026, 2, 1), made_on=D),
            InvalidCommand, "cannot fall due before it was made")
    refused(ledger, account,
            MakePromise(promise_id="PR-1", amount="1000.01", due_on=D, made_on=D),
            InvalidCommand, "exceeds what is owed")
    refused(ledger, account,
            AgreePaymentPlan(plan_id="PL-1", agreed_on=D, installments=[
                {"due_on": "2026-04-01", "amount": "500.00"},
                {"due_on": "2026-03-15", "amount": "500.00"}]),
            InvalidCommand, "instalments fall due in order")


def test_registration_is_validated():
    with pytest.raises(ValidationError) as caught:
        RegisterCustomer.model_validate(
            {"customer_id": "bad id!", "name": "", "currency": "RMB", "timezone": "Mars/Base",
             "credit_grade": "F"}
        )
    fields = {e["loc"][0] for e in caught.value.errors()}
    assert fields == {"customer_id", "name", "currency", "timezone", "credit_grade"}


def test_credit_limit_respects_minor_units(ledger):
    with pytest.raises(InvalidCommand, match="CNY has 2 decimal places"):
        ledger.register_customer(RegisterCustomer(customer_id="C-9", name="x", currency="CNY",
                                                  credit_limit="1.001"))
