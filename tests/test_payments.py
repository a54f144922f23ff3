"""Payments: oldest due first, undisputed first, surplus as credit, bounces undone."""

from datetime import date
from decimal import Decimal

from huikuan.core.commands import BouncePayment, RaiseDispute, ReceivePayment
from tests.conftest import invoice


def pay(payment_id, amount, received_on=date(2026, 4, 1), allocations=None):
    body = {"payment_id": payment_id, "amount": amount, "currency": "CNY",
            "received_on": received_on}
    if allocations is not None:
        body["allocations"] = allocations
    return ReceivePayment.model_validate(body)


def open_amounts(account):
    return {i: str(inv.open_amount) for i, inv in account.invoices.items()}


def test_a_payment_without_allocations_settles_the_oldest_due_first(ledger, customer):
    # Three invoices, issued out of due-date order: I-2 falls due first.
    customer()
    ledger.execute("C-1", invoice("I-1", "100.00", date(2026, 1, 10), due_on=date(2026, 3, 1)))
    ledger.execute("C-1", invoice("I-2", "200.00", date(2026, 1, 5), due_on=date(2026, 2, 1)))
    ledger.execute("C-1", invoice("I-3", "300.00", date(2026, 2, 20)))
    # 250 pays I-2 in full and half of I-1.
    account = ledger.execute("C-1", pay("P-1", "250.00")).account
    assert open_amounts(account) == {"I-1": "50.00", "I-2": "0.00", "I-3": "300.00"}
    assert account.payments["P-1"].allocations == {"I-2": Decimal("200.00"),
                                                   "I-1": Decimal("50.00")}


def test_undisputed_money_is_settled_before_disputed_money(ledger, customer):
    # I-1 is older but 80 of it is disputed; the payment covers undisputed money first.
    customer()
    ledger.execute("C-1", invoice("I-1", "100.00", date(2026, 1, 1)))
    ledger.execute("C-1", invoice("I-2", "100.00", date(2026, 1, 15)))
    ledger.execute("C-1", RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="80.00",
                                       raised_on=date(2026, 2, 1)))
    account = ledger.execute("C-1", pay("P-1", "150.00")).account
    # 20 undisputed of I-1, 100 of I-2, then 30 of the disputed part of I-1.
    assert open_amounts(account) == {"I-1": "50.00", "I-2": "0.00"}
    assert account.disputed == Decimal("50.00")


def test_surplus_stays_as_unapplied_credit_and_pays_later_invoices(ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "100.00", date(2026, 1, 1)))
    account = ledger.execute("C-1", pay("P-1", "350.00", date(2026, 2, 1))).account
    assert account.outstanding == 0
    assert account.unapplied_credit == Decimal("250.00")
    # The next invoice is paid from the credit at once…
    account = ledger.execute("C-1", invoice("I-2", "200.00", date(2026, 2, 10))).account
    assert open_amounts(account) == {"I-1": "0.00", "I-2": "0.00"}
    assert account.unapplied_credit == Decimal("50.00")
    # …and the one after that takes what is left.
    account = ledger.execute("C-1", invoice("I-3", "80.00", date(2026, 2, 20))).account
    assert account.invoices["I-3"].open_amount == Decimal("30.00")
    assert account.unapplied_credit == 0
    assert account.balance == Decimal("30.00")


def test_explicit_allocations_are_followed(ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "100.00", date(2026, 1, 1)))
    ledger.execute("C-1", invoice("I-2", "100.00", date(2026, 1, 2)))
    account = ledger.execute(
        "C-1", pay("P-1", "120.00", allocations=[{"invoice_id": "I-2", "amount": "100.00"}])
    ).account
    assert open_amounts(account) == {"I-1": "100.00", "I-2": "0.00"}
    assert account.unapplied_credit == Decimal("20.00")


def test_a_bounced_payment_reopens_what_it_settled(ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "100.00", date(2026, 1, 1)))
    ledger.execute("C-1", pay("P-1", "150.00", date(2026, 2, 1)))
    # Its surplus paid part of a later invoice: the bounce undoes that too.
    ledger.execute("C-1", invoice("I-2", "100.00", date(2026, 2, 5)))
    before = ledger.account("C-1")
    assert open_amounts(before) == {"I-1": "0.00", "I-2": "50.00"}
    outcome = ledger.execute("C-1", BouncePayment(payment_id="P-1", bounced_on=date(2026, 2, 8),
                                                   reason="insufficient funds"))
    account = outcome.account
    assert open_amounts(account) == {"I-1": "100.00", "I-2": "100.00"}
    assert account.unapplied_credit == 0
    assert account.payments["P-1"].bounced_on == date(2026, 2, 8)
    bounce = ledger.history("C-1")[-1]
    assert bounce.type == "PaymentBounced"
    assert bounce.data["reversed_allocations"] == [
        {"invoice_id": "I-1", "amount": Decimal("100.00")},
        {"invoice_id": "I-2", "amount": Decimal("50.00")},
    ]


def test_credit_waiting_on_the_account_pays_what_a_bounce_reopens(ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "100.00", date(2026, 1, 1)))
    ledger.execute("C-1", pay("P-1", "100.00", date(2026, 2, 1)))
    ledger.execute("C-1", pay("P-2", "60.00", date(2026, 2, 2)))  # nothing left to pay: credit
    account = ledger.execute("C-1", BouncePayment(payment_id="P-1",
                                                   bounced_on=date(2026, 2, 5))).account
    assert account.invoices["I-1"].open_amount == Decimal("40.00")
    assert account.unapplied_credit == 0
