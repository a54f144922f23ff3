"""Concurrent writers to one account never lose a write (optimistic concurrency, retried)."""

import threading
from datetime import date
from decimal import Decimal

from huikuan.core.commands import ReceivePayment, RegisterCustomer
from tests.conftest import invoice

THREADS = 8
PAYMENTS_PER_THREAD = 6


def test_no_payment_is_lost_or_doubled_under_concurrent_writers(store):
    # Two ledgers on one store stand for two server processes; threads share each.
    ledgers = [store.open(), store.open()]
    ledgers[0].register_customer(
        RegisterCustomer(customer_id="C-1", name="Acme", currency="CNY")
    )
    ledgers[0].execute("C-1", invoice("I-1", "100000.00", date(2026, 1, 1)))
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        ledger = ledgers[n % 2]
        start.wait()
        try:
            for k in range(PAYMENTS_PER_THREAD):
                ledger.execute("C-1", ReceivePayment(
                    payment_id=f"P-{n}-{k}", amount="10.00", currency="CNY",
                    received_on=date(2026, 2, 1)))
                # Every thread also repeats its first payment: it must not count twice.
                ledger.execute("C-1", ReceivePayment(
                    payment_id=f"P-{n}-0", amount="10.00", currency="CNY",
                    received_on=date(2026, 2, 1)))
        except BaseException as error:  # reported below, with the thread's failure
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    account = store.open().account("C-1")
    total = THREADS * PAYMENTS_PER_THREAD
    assert len(account.payments) == total
    assert account.invoices["I-1"].paid == Decimal("10.00") * total
    types = [h.type for h in store.open().history("C-1")]
    assert types.count("PaymentReceived") == total


def test_concurrent_registration_of_one_customer_records_it_once(store):
    ledgers = [store.open() for _ in range(4)]
    start = threading.Barrier(4)
    outcomes = []

    def register(ledger):
        start.wait()
        outcomes.append(ledger.register_customer(
            RegisterCustomer(customer_id="C-1", name="Acme", currency="CNY")))

    threads = [threading.Thread(target=register, args=(lg,)) for lg in ledgers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.recorded for o in outcomes) == [False, False, False, True]
    assert len(store.open().history("C-1")) == 1


def test_a_process_whose_cached_account_is_behind_still_decides_on_the_latest(store):
    # Two ledgers on one store, as two server processes: each keeps the accounts it
    # last saved and starts its next command from there, without reading the store.
    first, second = store.open(), store.open()
    first.register_customer(RegisterCustomer(customer_id="C-1", name="c", currency="CNY"))
    first.execute("C-1", invoice("I-1", "100.00", date(2026, 1, 1)))
    # The other process records an invoice, then this one is asked to pay it: its own
    # copy has never heard of I-2, but the refusal is checked against the store.
    second.execute("C-1", invoice("I-2", "50.00", date(2026, 1, 2)))
    paid = first.execute("C-1", ReceivePayment(
        payment_id="P-1", amount="50.00", currency="CNY", received_on=date(2026, 1, 3),
        allocations=[{"invoice_id": "I-2", "amount": "50.00"}]))
    assert paid.recorded
    # A repeat of what the other process recorded is found to be one, not recorded twice.
    again = first.execute("C-1", invoice("I-2", "50.00", date(2026, 1, 2)))
    assert not again.recorded
    # And a write from a stale copy that would conflict is retried, not lost.
    second.execute("C-1", ReceivePayment(payment_id="P-2", amount="10.00", currency="CNY",
                                         received_on=date(2026, 1, 4)))
    first.execute("C-1", ReceivePayment(payment_id="P-3", amount="20.00", currency="CNY",
                                        received_on=date(2026, 1, 5)))
    latest = store.open().account("C-1")
    assert set(latest.payments) == {"P-1", "P-2", "P-3"}
    assert latest.invoices["I-1"].open_amount == Decimal("70.00")
    assert latest.invoices["I-2"].open_amount == Decimal("0.00")
