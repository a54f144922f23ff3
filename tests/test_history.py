"""History: an account as of any business date, and as recorded at any moment."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from huikuan.core.commands import BouncePayment, ConfirmDelivery, LogContact, ReceivePayment
from huikuan.core.errors import NotFound
from tests.conftest import invoice


def pay(payment_id, amount, received_on):
    return ReceivePayment(payment_id=payment_id, amount=amount, currency="CNY",
                          received_on=received_on)


@pytest.fixture
def story(ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "1000.00", date(2026, 1, 5)))
    ledger.execute("C-1", ConfirmDelivery(invoice_id="I-1", delivered_on=date(2026, 1, 7)))
    ledger.execute("C-1", pay("P-1", "400.00", date(2026, 2, 10)))
    ledger.execute("C-1", invoice("I-2", "500.00", date(2026, 3, 1)))
    ledger.execute("C-1", BouncePayment(payment_id="P-1", bounced_on=date(2026, 3, 5)))
    # Recorded last, but it happened in January: history as of a date counts it there.
    ledger.execute("C-1", pay("P-0", "100.00", date(2026, 1, 20)))
    return "C-1"


@pytest.mark.parametrize(
    ("as_of", "outstanding", "invoices"),
    [
        (date(2026, 1, 4), "0", []),
        (date(2026, 1, 5), "1000.00", ["I-1"]),
        (date(2026, 1, 31), "900.00", ["I-1"]),
        (date(2026, 2, 28), "500.00", ["I-1"]),
        (date(2026, 3, 4), "1000.00", ["I-1", "I-2"]),
        (date(2026, 3, 5), "1400.00", ["I-1", "I-2"]),
    ],
)
def test_account_as_of_a_business_date(ledger, story, as_of, outstanding, invoices):
    account = ledger.account_as_of(story, as_of)
    assert account.outstanding == Decimal(outstanding)
    assert sorted(account.invoices) == invoices


def test_delivery_before_the_invoice_is_kept(ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "10.00", date(2026, 1, 10)))
    ledger.execute("C-1", ConfirmDelivery(invoice_id="I-1", delivered_on=date(2026, 1, 3),
                                          signed_by="张三"))
    assert ledger.account_as_of("C-1", date(2026, 1, 5)).invoices == {}
    assert ledger.account_as_of("C-1", date(2026, 1, 10)).invoices["I-1"].signed_by == "张三"


def test_account_as_recorded_at_a_moment(ledger, story):
    events = ledger.history(story)
    # Just after the bounce was recorded, P-0 was not yet known.
    bounce = next(e for e in events if e.type == "PaymentBounced")
    account = ledger.account_as_recorded(story, bounce.recorded_at)
    assert "P-0" not in account.payments
    assert account.outstanding == Decimal("1500.00")
    assert ledger.account_as_recorded(story, events[-1].recorded_at).outstanding == Decimal(
        "1400.00"
    )
    with pytest.raises(NotFound):
        ledger.account_as_recorded(story, events[0].recorded_at - timedelta(seconds=1))


def test_history_lists_every_event_with_its_business_date(ledger, story):
    entries = ledger.history(story)
    assert [(e.version, e.type, e.occurred_on) for e in entries] == [
        (1, "Registered", date(2026, 1, 1)),
        (2, "InvoiceIssued", date(2026, 1, 5)),
        (3, "DeliveryConfirmed", date(2026, 1, 7)),
        (4, "PaymentReceived", date(2026, 2, 10)),
        (5, "InvoiceIssued", date(2026, 3, 1)),
        (6, "PaymentBounced", date(2026, 3, 5)),
        (7, "PaymentReceived", date(2026, 1, 20)),
    ]
    assert all(e.recorded_at.tzinfo is not None for e in entries)
    assert entries[1].data["amount"] == Decimal("1000.00")
    as_of = ledger.history(story, as_of=date(2026, 2, 1))
    assert [e.version for e in as_of] == [1, 2, 3, 7]


def test_a_contact_happens_on_the_customers_local_date(ledger, customer):
    customer(timezone="Asia/Shanghai")
    # 20:30 UTC on 1 March is 04:30 on 2 March in Shanghai.
    ledger.execute("C-1", LogContact(occurred_at=datetime(2026, 3, 1, 20, 30, tzinfo=UTC),
                                     channel="phone", direction="outbound", outcome="reached"))
    assert ledger.history("C-1")[-1].occurred_on == date(2026, 3, 2)
    assert ledger.account("C-1").contact_log[0].occurred_on == date(2026, 3, 2)


def test_unknown_customer_has_no_history(ledger):
    with pytest.raises(NotFound):
        ledger.history("NOBODY")


def test_a_reduction_dated_before_a_bounce_cannot_use_the_money_the_bounce_reopened(
    ledger, customer
):
    from huikuan.core.commands import IssueCreditNote
    from huikuan.core.errors import InvalidCommand

    customer()
    ledger.execute("C-1", invoice("I-1", "100.00", date(2026, 1, 1)))
    ledger.execute("C-1", pay("P-1", "100.00", date(2026, 1, 10)))
    ledger.execute("C-1", BouncePayment(payment_id="P-1", bounced_on=date(2026, 3, 1)))
    # On 1 February the invoice was paid (the bounce came later): nothing to credit then.
    with pytest.raises(InvalidCommand, match=r"exceeds the open amount 0\.00"):
        ledger.execute("C-1", IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1",
                                              amount="100.00", issued_on=date(2026, 2, 1)))
    # Dated after the bounce it is fine, and every past date stays non-negative.
    ledger.execute("C-1", IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1",
                                          amount="100.00", issued_on=date(2026, 3, 2)))
    for day in (date(2026, 1, 5), date(2026, 2, 15), date(2026, 3, 1), date(2026, 3, 2)):
        assert ledger.account_as_of("C-1", day).invoices["I-1"].open_amount >= 0
