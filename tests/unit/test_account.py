"""The account aggregate on its own: commands, balances, idempotency and invariants.

No store, no plugins: an account is opened with ``Account.register`` and changed by its
command methods, so each test runs in a fraction of a millisecond. What the store adds
(topics, snapshots in the database, concurrency) is tested in tests/test_storage.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from eventsourcing.utils import resolve_topic

from huikuan.core.account import Account, account_id
from huikuan.core.account.receivables import Receivables
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.transcodings import register_all

D = Decimal


def opened(**terms: Any) -> Account:
    """A CNY customer on 30-day terms, registered on 1 January 2026."""
    fields: dict[str, Any] = {"customer_id": "C-1", "name": "华东机电", "currency": "CNY",
                              "registered_on": date(2026, 1, 1), **terms}
    return Account.register(**fields)


def with_invoices(*amounts: str) -> Account:
    """An account with invoices I-1, I-2… issued on the 1st, 2nd… of February."""
    account = opened()
    for n, amount in enumerate(amounts, start=1):
        account.issue_invoice(invoice_id=f"I-{n}", amount=amount, currency="CNY",
                              issued_on=date(2026, 2, n))
    return account


def recorded(account: Account) -> list[str]:
    """The names of the events recorded since the last call (or since registration)."""
    return [type(e).__name__ for e in account.collect_events()]


# ---- registration


def test_registration_opens_the_account_under_an_id_from_the_customer_id() -> None:
    account = opened(payment_terms_days=45, credit_grade="B", tags=["vip", "vip"])
    assert account.id == account_id("C-1")
    assert (account.customer_id, account.currency, account.payment_terms_days) == (
        "C-1", "CNY", 45)
    assert account.tags == ["vip"]
    assert account.balance == D("0.00")
    assert account.version == 1
    assert recorded(account) == ["Registered"]


@pytest.mark.parametrize(("terms", "field"), [
    ({"credit_grade": "F"}, "credit_grade"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"payment_terms_days": -1}, "payment_terms_days"),
])
def test_registration_refuses_terms_out_of_range(terms: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        opened(**terms)
    assert refused.value.field == field


def test_a_repeated_registration_is_recognised_and_a_different_one_is_not() -> None:
    account = opened(credit_limit="1000")
    # As the ledger asks it: every field of the command but the date, defaults included.
    same = {"customer_id": "C-1", "name": "华东机电", "currency": "CNY",
            "payment_terms_days": 30, "credit_limit": "1000.00", "credit_grade": None,
            "timezone": "Asia/Shanghai", "collector": None, "contacts": [], "tax_id": None,
            "tags": [], "language": "zh-CN"}
    assert account.is_same_registration(same)
    assert not account.is_same_registration({**same, "name": "别的公司"})


# ---- receivables


def test_an_invoice_is_owed_and_falls_due_after_the_payment_terms() -> None:
    account = with_invoices("1250.00")
    invoice = account.invoices["I-1"]
    assert invoice.due_on == date(2026, 3, 3)
    assert account.outstanding == account.balance == D("1250.00")
    assert account.overdue(date(2026, 3, 3)) == D("0.00")
    assert account.overdue(date(2026, 3, 4)) == D("1250.00")
    assert Account.days_overdue(invoice, date(2026, 3, 13)) == 10


def test_an_invoice_posted_again_records_nothing_and_a_changed_one_conflicts() -> None:
    account = with_invoices("100.00")
    recorded(account)
    again = {"invoice_id": "I-1", "amount": "100", "currency": "CNY",
             "issued_on": date(2026, 2, 1)}
    assert account.issue_invoice(**again) is False
    assert recorded(account) == []
    with pytest.raises(Conflict):
        account.issue_invoice(**{**again, "amount": "101"})
    assert account.outstanding == D("100.00")


@pytest.mark.parametrize(("change", "field"), [
    ({"currency": "USD"}, "currency"),
    ({"amount": "0.001"}, "amount"),
    ({"due_on": date(2026, 1, 31)}, "due_on"),
])
def test_an_invoice_is_refused_when_it_cannot_be_right(change: dict[str, Any],
                                                       field: str) -> None:
    account = opened()
    command = {"invoice_id": "I-1", "amount": "100", "currency": "CNY",
               "issued_on": date(2026, 2, 1), **change}
    with pytest.raises(InvalidCommand) as refused:
        account.issue_invoice(**command)
    assert refused.value.field == field
    assert account.invoices == {}


def test_credit_notes_and_write_offs_reduce_an_invoice_but_never_below_zero() -> None:
    account = with_invoices("100.00")
    account.issue_credit_note(credit_note_id="CN-1", invoice_id="I-1", amount="30",
                              issued_on=date(2026, 2, 10))
    with pytest.raises(InvalidCommand):
        account.write_off(invoice_id="I-1", amount="70.01", written_off_on=date(2026, 3, 1))
    account.write_off(invoice_id="I-1", amount="70", written_off_on=date(2026, 3, 1))
    invoice = account.invoices["I-1"]
    assert (invoice.credited, invoice.written_off, invoice.open_amount) == (
        D("30.00"), D("70.00"), D("0.00"))
    # A write-off is a fact: that the invoice is dead is the classes plugin's decision
    # (ClassScheduled), made when the write-off arrives (tests/test_classes_any_date.py).
    assert (invoice.class_, invoice.class_steps) == ("not_due", None)
    assert account.open_invoices() == []


def test_a_fact_about_an_invoice_cannot_predate_it_or_name_a_missing_one() -> None:
    account = with_invoices("100.00")
    with pytest.raises(InvalidCommand):
        account.issue_credit_note(credit_note_id="CN-1", invoice_id="I-1", amount="1",
                                  issued_on=date(2026, 1, 31))
    with pytest.raises(NotFound):
        account.confirm_delivery(invoice_id="I-9", delivered_on=date(2026, 2, 3))


def test_a_delivery_marks_its_invoice() -> None:
    account = with_invoices("100.00")
    account.confirm_delivery(invoice_id="I-1", delivered_on=date(2026, 2, 3),
                             receipt_ref="QS-1", signed_by="王会计")
    invoice = account.invoices["I-1"]
    assert (invoice.delivered_on, invoice.receipt_ref) == (date(2026, 2, 3), "QS-1")


# ---- payments


def test_a_payment_settles_the_oldest_due_first_and_keeps_the_rest_as_credit() -> None:
    account = with_invoices("100.00", "50.00")
    account.receive_payment(payment_id="P-1", amount="180", currency="CNY",
                            received_on=date(2026, 3, 1))
    assert account.payments["P-1"].allocations == {"I-1": D("100.00"), "I-2": D("50.00")}
    assert account.unapplied_credit == D("30.00")
    assert account.balance == D("-30.00")
    # The credit waiting on the account settles the next invoice as it is issued.
    recorded(account)
    account.issue_invoice(invoice_id="I-3", amount="40", currency="CNY",
                          issued_on=date(2026, 3, 2))
    assert recorded(account) == ["InvoiceIssued", "CreditApplied"]
    assert account.invoices["I-3"].open_amount == D("10.00")
    assert account.unapplied_credit == D("0.00")


def test_allocations_are_checked_against_what_is_open() -> None:
    account = with_invoices("100.00")
    with pytest.raises(InvalidCommand) as refused:
        account.receive_payment(payment_id="P-1", amount="200", currency="CNY",
                                received_on=date(2026, 3, 1),
                                allocations=[{"invoice_id": "I-1", "amount": "150"}])
    assert refused.value.field == "allocations[0].amount"
    assert account.payments == {}


def test_a_bounced_payment_reopens_what_it_settled() -> None:
    account = with_invoices("100.00")
    account.receive_payment(payment_id="P-1", amount="100", currency="CNY",
                            received_on=date(2026, 3, 1))
    assert account.outstanding == D("0.00")
    account.bounce_payment(payment_id="P-1", bounced_on=date(2026, 3, 5))
    assert account.outstanding == D("100.00")
    assert account.payments["P-1"].allocations == {}
    with pytest.raises(Conflict):
        account.bounce_payment(payment_id="P-1", bounced_on=date(2026, 3, 6))


def test_history_never_shows_a_negative_balance() -> None:
    # Paid on 1 March, bounced on 10 March: on 5 March nothing was open, so a credit
    # note dated 5 March has no room, though the invoice is open again today.
    account = with_invoices("100.00")
    account.receive_payment(payment_id="P-1", amount="100", currency="CNY",
                            received_on=date(2026, 3, 1))
    account.bounce_payment(payment_id="P-1", bounced_on=date(2026, 3, 10))
    with pytest.raises(InvalidCommand):
        account.issue_credit_note(credit_note_id="CN-1", invoice_id="I-1", amount="10",
                                  issued_on=date(2026, 3, 5))
    account.issue_credit_note(credit_note_id="CN-1", invoice_id="I-1", amount="10",
                              issued_on=date(2026, 3, 10))
    assert account.outstanding == D("90.00")


# ---- disputes


def test_undisputed_money_is_settled_before_the_disputed_part() -> None:
    account = with_invoices("100.00", "100.00")
    account.raise_dispute(dispute_id="D-1", invoice_id="I-1", amount="40",
                          raised_on=date(2026, 2, 20))
    assert account.disputed == D("40.00")
    account.receive_payment(payment_id="P-1", amount="150", currency="CNY",
                            received_on=date(2026, 3, 1))
    # First what nobody contests, oldest due first; then the contested part.
    assert account.payments["P-1"].allocations == {"I-1": D("60.00"), "I-2": D("90.00")}
    assert account.undisputed_open(account.invoices["I-1"]) == D("0.00")
    assert account.disputed == D("40.00")


def test_a_dispute_cannot_contest_more_than_is_open_and_undisputed() -> None:
    account = with_invoices("100.00")
    account.raise_dispute(dispute_id="D-1", invoice_id="I-1", amount="60",
                          raised_on=date(2026, 2, 20))
    with pytest.raises(InvalidCommand):
        account.raise_dispute(dispute_id="D-2", invoice_id="I-1", amount="41",
                              raised_on=date(2026, 2, 21))


def test_a_credited_dispute_reduces_the_invoice_and_a_rejected_one_is_owed() -> None:
    account = with_invoices("100.00", "100.00")
    account.raise_dispute(dispute_id="D-1", invoice_id="I-1", amount="40",
                          raised_on=date(2026, 2, 20))
    account.resolve_dispute(dispute_id="D-1", resolved_on=date(2026, 3, 1), outcome="credited")
    assert account.invoices["I-1"].open_amount == D("60.00")
    assert account.disputed == D("0.00")
    account.raise_dispute(dispute_id="D-2", invoice_id="I-2", amount="30",
                          raised_on=date(2026, 2, 20))
    # Paid against the undisputed part only; the rest waits on the account as credit…
    account.receive_payment(payment_id="P-1", amount="100", currency="CNY",
                            received_on=date(2026, 3, 2),
                            allocations=[{"invoice_id": "I-2", "amount": "70"}])
    assert account.unapplied_credit == D("30.00")
    # …and settles the contested money as soon as the dispute is rejected.
    account.resolve_dispute(dispute_id="D-2", resolved_on=date(2026, 3, 3), outcome="rejected")
    assert account.invoices["I-2"].open_amount == D("0.00")
    assert account.unapplied_credit == D("0.00")
    with pytest.raises(Conflict):
        account.resolve_dispute(dispute_id="D-2", resolved_on=date(2026, 3, 4),
                                outcome="credited")


# ---- the case file


def test_a_contact_is_dated_where_the_customer_is_and_recorded_once() -> None:
    account = opened(timezone="Asia/Shanghai")
    contact = {"occurred_at": datetime(2026, 2, 1, 17, 0, tzinfo=UTC), "channel": "phone",
               "direction": "outbound", "outcome": "reached"}
    assert account.log_contact(**contact) is True
    assert account.log_contact(**contact) is False  # the same contact, a derived id
    assert [c.occurred_on for c in account.contact_log] == [date(2026, 2, 2)]
    with pytest.raises(InvalidCommand):
        account.log_contact(**{**contact, "occurred_at": datetime(2026, 2, 1, 17, 0)})


def test_promises_and_plans_cannot_exceed_what_is_owed() -> None:
    account = with_invoices("100.00")
    with pytest.raises(InvalidCommand):
        account.make_promise(promise_id="PR-1", amount="101", due_on=date(2026, 3, 1),
                             made_on=date(2026, 2, 20))
    with pytest.raises(InvalidCommand):
        account.agree_payment_plan(plan_id="PL-1", agreed_on=date(2026, 2, 20), installments=[
            {"due_on": date(2026, 3, 1), "amount": "60"},
            {"due_on": date(2026, 4, 1), "amount": "41"}])
    account.make_promise(promise_id="PR-1", amount="100", due_on=date(2026, 3, 1),
                         made_on=date(2026, 2, 20))
    assert account.promises["PR-1"].status == "pending"


def test_an_acknowledgment_without_a_list_covers_every_invoice_then_open() -> None:
    account = with_invoices("100.00", "50.00")
    account.receive_payment(payment_id="P-1", amount="100", currency="CNY",
                            received_on=date(2026, 2, 10))
    account.acknowledge_debt(acknowledged_on=date(2026, 2, 15))
    assert account.acknowledgments[0]["invoice_ids"] == ["I-2"]
    assert account.invoices["I-2"].acknowledged_on == date(2026, 2, 15)
    assert account.invoices["I-1"].acknowledged_on is None


# ---- decisions and delivery


def decided(**fields: Any) -> dict[str, Any]:
    return {"decided_on": date(2026, 3, 1), "plugin": "test", "plugin_version": "1",
            "based_on": {}, **fields}


def test_a_new_fact_asks_for_a_review_and_a_scheduled_review_waits() -> None:
    account = with_invoices("100.00")
    assert account.due_for_review(date(2026, 3, 1))
    account.record_decision(Account.ReviewScheduled, **decided(next_review=date(2026, 3, 10)))
    assert not account.due_for_review(date(2026, 3, 9))
    assert account.due_for_review(date(2026, 3, 10))
    account.report_risk_signal(signal="lawsuit", observed_on=date(2026, 3, 2))
    assert account.due_for_review(date(2026, 3, 2))


def test_a_queued_message_goes_through_its_delivery_outcomes() -> None:
    account = with_invoices("100.00")
    account.record_decision(Account.StageEntered, **decided(stage="notice", skipped=[]))
    account.record_decision(Account.MessageQueued, **decided(
        message_id="M-1", kind="notice", channel="email", recipient="ap@example.com",
        language="zh-CN", subject="催款", body="…", amount=D("100.00"),
        invoice_ids=["I-1"], deadline=None))
    at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    account.record_delivery_outcome(Account.MessageFailed, message_id="M-1", failed_at=at,
                                    attempt=1, error="timeout", retry_at=at)
    assert (account.messages["M-1"].status, account.messages["M-1"].attempts) == ("pending", 1)
    account.record_delivery_outcome(Account.MessageSent, message_id="M-1", sent_at=at,
                                    attempt=2, receipt=None)
    assert account.messages["M-1"].status == "sent"
    assert account.stage == "notice"
    with pytest.raises(NotFound):
        account.record_delivery_outcome(Account.MessageSent, message_id="M-9", sent_at=at,
                                        attempt=1, receipt=None)


# ---- what each event declares about itself


def test_each_event_names_its_business_date_and_the_invoices_it_changes() -> None:
    account = with_invoices("100.00")
    before = Account.replay(list(account.collect_events()))
    assert before is not None
    account.receive_payment(payment_id="P-1", amount="100", currency="CNY",
                            received_on=date(2026, 3, 1))
    account.log_contact(occurred_at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
                        channel="phone", direction="outbound", outcome="reached")
    account.record_decision(Account.ClassChanged, **decided(
        invoice_id="I-1", previous="not_due", new="in_collection"))
    account.record_decision(Account.StageEntered, **decided(stage="reminded", skipped=[]))
    account.record_decision(Account.MessageQueued, **decided(
        message_id="M-1", kind="reminder", channel="email", recipient=None,
        language="zh-CN", subject="", body="", amount=D("1"), invoice_ids=[],
        deadline=None))
    account.record_delivery_outcome(Account.MessageSent, message_id="M-1",
                                    sent_at=datetime(2026, 3, 4, 23, 0, tzinfo=UTC),
                                    attempt=1, receipt=None)
    events = account.collect_events()
    answers = []
    for event in events:
        answers.append((type(event).__name__, event.occurred_on,
                        event.invoices_changed(before)))
        event.mutate(before)
    assert answers == [
        ("PaymentReceived", date(2026, 3, 1), ["I-1"]),
        # A contact's business date is the customer's; a datetime field gives its date.
        ("ContactLogged", date(2026, 3, 3), ()),
        ("ClassChanged", date(2026, 3, 1), ("I-1",)),
        ("StageEntered", date(2026, 3, 1), ()),
        ("MessageQueued", date(2026, 3, 1), ()),
        ("MessageSent", date(2026, 3, 4), ()),
    ]
    registered = opened().collect_events()[0]
    assert (registered.occurred_on, registered.invoices_changed(before)) == (
        date(2026, 1, 1), None)  # None: any invoice may have changed


def test_what_an_event_declares_about_itself_is_not_stored() -> None:
    account = with_invoices("100.00")
    issued = account.collect_events()[-1]
    assert isinstance(issued, Account.InvoiceIssued)
    stored = set(vars(issued))
    assert stored == {"originator_id", "originator_version", "timestamp", "chain_hash",
                      "invoice_id", "amount", "issued_on", "due_on", "contract_ref",
                      "order_ref", "recorded_by"}  # who recorded it: stored beside the fields
    assert issued.recorded_by == "system"  # no one said otherwise (core.actor)
    assert issued.occurred_on == date(2026, 2, 1)
    assert issued.invoices_changed(account) == ("I-1",)


# ---- one aggregate of many concerns


def test_the_concerns_events_are_the_accounts_own_one_class_a_topic() -> None:
    assert Account.InvoiceIssued is Receivables.InvoiceIssued
    for name, value in vars(Account).items():
        if isinstance(value, type) and hasattr(value, "TOPIC") and name != "Event":
            assert resolve_topic(value.TOPIC) is value, name
    assert issubclass(Account.PaymentReceived, Account.Fact)
    assert issubclass(Account.StageEntered, Account.Decision)
    assert issubclass(Account.MessageSent, Account.Event)


def test_replay_and_a_snapshot_give_the_same_account() -> None:
    account = with_invoices("100.00", "250.50")
    account.receive_payment(payment_id="P-1", amount="120", currency="CNY",
                            received_on=date(2026, 3, 1))
    account.raise_dispute(dispute_id="D-1", invoice_id="I-2", amount="50",
                          raised_on=date(2026, 3, 2))
    account.make_promise(promise_id="PR-1", amount="100", due_on=date(2026, 3, 20),
                         made_on=date(2026, 3, 3))
    replayed = Account.replay(list(account.collect_events()))
    assert replayed is not None
    assert vars(replayed) == {**vars(account), "_pending_events": []}
    # A snapshot goes through the store's transcoder (dates, decimals, the records).
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):  # the library's own
        transcoder.register(transcoding)
    register_all(transcoder)
    snapshot = Snapshot.take(replayed)
    state = transcoder.decode(transcoder.encode(snapshot.state))
    restored = Snapshot(originator_id=snapshot.originator_id,
                        originator_version=snapshot.originator_version,
                        timestamp=snapshot.timestamp, topic=snapshot.topic,
                        state=state).mutate(None)
    assert type(restored) is Account
    assert vars(restored) == vars(replayed)
    assert restored.balance == D("230.50")
