"""The store: explicit topics, transcodings, snapshots and upcasting of old events."""

from datetime import date
from decimal import Decimal

from eventsourcing.persistence import StoredEvent

from huikuan.core import chain
from huikuan.core.account import Account, account_id
from huikuan.core.audit import verify
from huikuan.core.commands import LogContact, ReceivePayment, RegisterCustomer
from tests.conftest import invoice

# The stored names of the events. They are the permanent record: a change here breaks
# every store in the field, so this list only ever grows.
TOPICS = {
    "huikuan:Account.Registered", "huikuan:Account.InvoiceIssued",
    "huikuan:Account.CreditApplied", "huikuan:Account.DeliveryConfirmed",
    "huikuan:Account.PaymentReceived", "huikuan:Account.PaymentBounced",
    "huikuan:Account.CreditNoteIssued", "huikuan:Account.DisputeRaised",
    "huikuan:Account.DisputeResolved", "huikuan:Account.WrittenOff",
    "huikuan:Account.ContactLogged", "huikuan:Account.PromiseMade",
    "huikuan:Account.PaymentPlanAgreed", "huikuan:Account.DebtAcknowledged",
    "huikuan:Account.RiskSignalReported", "huikuan:Account.PromiseKept",
    "huikuan:Account.PromiseBroken", "huikuan:Account.InstallmentMissed",
    "huikuan:Account.StageEntered", "huikuan:Account.SupplyHeld",
    "huikuan:Account.SupplyReleased", "huikuan:Account.MessageQueued",
    "huikuan:Account.MessageHeld", "huikuan:Account.MessageSent",
    "huikuan:Account.MessageFailed", "huikuan:Account.MessageCancelled",
    "huikuan:Account.InterestCharged",
    "huikuan:Account.ClassChanged", "huikuan:Account.RiskChanged",
    "huikuan:Account.ReviewScheduled",
    "huikuan:Account.DeadlinesDecided",
    "huikuan:Account.PriorityDecided",
    "huikuan:Account.DemandDelivered", "huikuan:Account.CreditOverridden",
    "huikuan:Account.ClassScheduled", "huikuan:Account.RecoveryReceived",
    "huikuan:Account.PromiseFlagged", "huikuan:Account.CustomerChanged",
    "huikuan:Account.DunningPaused", "huikuan:Account.PauseEnded",
    "huikuan:Account.HandedOff", "huikuan:Account.HandoffUpdated",
    "huikuan:Account.CostRecorded", "huikuan:Account.GuaranteeRecorded",
    "huikuan:Account.InterestTermsSet", "huikuan:Account.FeeCharged",
    "huikuan:Account.FeeWaived", "huikuan:Account.InterestWaived",
    "huikuan:Account.ChargesSettled",
    "huikuan:Account.StatementIssued", "huikuan:Account.StatementConfirmed",
}


def event_classes():
    for value in vars(Account).values():
        if isinstance(value, type) and issubclass(value, Account.Event | Account.Registered):
            yield value


def test_every_event_has_an_explicit_stable_topic():
    abstract = {Account.Event, Account.Fact, Account.Decision, Account.Created}
    topics = {cls.TOPIC for cls in event_classes() if cls not in abstract}
    assert topics == TOPICS


def test_dates_decimals_and_datetimes_round_trip_exactly(ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "1234.56", date(2026, 2, 28)))
    fresh = ledger.repository.get(account_id("C-1"), deepcopy_from_cache=False)
    invoice_ = fresh.invoices["I-1"]
    assert invoice_.amount == Decimal("1234.56")
    assert isinstance(invoice_.issued_on, date)
    assert invoice_.due_on == date(2026, 3, 30)


def test_long_accounts_are_snapshotted_and_snapshots_change_nothing(store, ledger, customer):
    customer()
    ledger.execute("C-1", invoice("I-1", "100000.00", date(2026, 1, 1)))
    for n in range(230):
        ledger.execute("C-1", ReceivePayment(payment_id=f"P-{n}", amount="1.00",
                                             currency="CNY", received_on=date(2026, 2, 1)))
    snapshots = list(ledger.snapshots.get(account_id("C-1")))
    assert [s.originator_version for s in snapshots] == [100, 200]
    # A new process loads from the snapshot at 200 and the 32 events after it…
    from_snapshot = store.open().account("C-1")
    # …and gets exactly what a replay of all 232 events gives.
    from_events = Account.replay(list(ledger.events.get(account_id("C-1"))))
    assert vars(from_snapshot) == vars(from_events)
    assert from_snapshot.invoices["I-1"].open_amount == Decimal("99770.00")


def test_an_invoice_stored_in_its_first_shape_is_upcast_on_reading(store, ledger, customer):
    # Version 1 of InvoiceIssued had no contract or order reference. Write such a row
    # as an old huikuan would have, chained to the registration like any other event.
    customer()
    account = ledger.account("C-1")
    state = {
        "timestamp": account.modified_on,
        "invoice_id": "I-OLD",
        "amount": Decimal("500.00"),
        "issued_on": date(2025, 12, 1),
        "due_on": date(2025, 12, 31),
    }
    topic = "huikuan:Account.InvoiceIssued"
    state["chain_hash"] = chain.link(
        account.chain_head, chain.stored_content(topic, account.id, 2, state)
    )
    ledger.recorder.insert_events([StoredEvent(
        originator_id=account.id, originator_version=2, topic=topic,
        state=ledger.mapper.transcoder.encode(state),
    )])
    # The current code reads it with the fields v2 added…
    old = store.open().account("C-1").invoices["I-OLD"]
    assert (old.contract_ref, old.order_ref, old.amount) == (None, None, Decimal("500.00"))
    # …the audit still finds it intact, and new events follow it.
    assert verify(ledger).ok
    ledger.execute("C-1", invoice("I-NEW", "1.00", date(2026, 1, 1), contract_ref="K-1"))
    assert verify(ledger).ok
    assert ledger.history("C-1")[1].data["contract_ref"] is None


def test_a_registration_stored_in_its_first_shape_is_upcast_on_reading(store, ledger):
    # Version 1 of Registered had no postal address: read as None, and the account
    # takes changes on top of it like any other.
    from datetime import UTC, datetime

    from huikuan.core.commands import ChangeCustomer

    state = {
        "originator_topic": "huikuan:Account", "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "customer_id": "C-OLD", "name": "旧客户", "currency": "CNY", "payment_terms_days": 30,
        "credit_limit": None, "credit_grade": None, "timezone": "Asia/Shanghai",
        "collector": "li.wei", "contacts": [], "tax_id": None,
        "registered_on": date(2026, 1, 1), "tags": [], "language": "zh-CN",
    }
    topic = "huikuan:Account.Registered"
    state["chain_hash"] = chain.link(
        chain.GENESIS, chain.stored_content(topic, account_id("C-OLD"), 1, state))
    ledger.recorder.insert_events([StoredEvent(
        originator_id=account_id("C-OLD"), originator_version=1, topic=topic,
        state=ledger.mapper.transcoder.encode(state))])
    old = store.open().account("C-OLD")
    assert (old.address, old.collector, old.master_data()["address"]) == (None, "li.wei", None)
    assert verify(ledger).ok
    change = ChangeCustomer(address={"line1": "张江路1号"}, effective_on=date(2026, 2, 1))
    assert ledger.execute("C-OLD", change).recorded
    assert ledger.account("C-OLD").address == {
        "line1": "张江路1号", "line2": None, "city": None, "province": None,
        "postal_code": None, "country": None}
    assert verify(ledger).ok


def test_contacts_are_recorded_with_their_timestamp(ledger, customer):
    from datetime import UTC, datetime

    customer()
    when = datetime(2026, 3, 2, 6, 15, 30, 123456, tzinfo=UTC)
    ledger.execute("C-1", LogContact(occurred_at=when, channel="visit", direction="outbound",
                                     outcome="promised", evidence_ref="photo-7"))
    assert store_roundtrip(ledger).contact_log[0].occurred_at == when


def store_roundtrip(ledger):
    return Account.replay(list(ledger.events.get(account_id("C-1"))))


def test_registration_keeps_contacts(ledger):
    ledger.register_customer(RegisterCustomer(
        customer_id="C-1", name="Acme", currency="USD", timezone="America/New_York",
        contacts=[{"name": "Jane Roe", "role": "AP clerk", "email": "ap@acme.test"}],
        credit_limit="25000", credit_grade="B", collector="li.wei"))
    account = store_roundtrip(ledger)
    assert account.contacts[0]["email"] == "ap@acme.test"
    assert account.credit_limit == Decimal("25000.00")
    assert (account.timezone, account.collector, account.credit_grade) == (
        "America/New_York", "li.wei", "B")


def test_a_cycle_log_stored_in_its_first_shape_is_upcast_on_reading(store, ledger, customer):
    # Version 1 of CycleCompleted had no policy fingerprint: read as "" (unknown), so
    # the next cycle looks at every account rather than trust an unknown schedule.
    from huikuan.core.cycle import CYCLE_LOG_ID, CycleLog, DailyCycle
    from huikuan.core.policy import PolicyHost

    customer()
    log = CycleLog.start()
    ledger.save(log)
    state = {"timestamp": log.modified_on, "as_of": date(2026, 1, 5), "accounts": 1,
             "counts": {}, "failures": 0}
    topic = "huikuan:CycleLog.CycleCompleted"
    state["chain_hash"] = chain.link(
        log.chain_head, chain.stored_content(topic, CYCLE_LOG_ID, 2, state))
    ledger.recorder.insert_events([StoredEvent(
        originator_id=CYCLE_LOG_ID, originator_version=2, topic=topic,
        state=ledger.mapper.transcoder.encode(state))])
    old = store.open().get(CYCLE_LOG_ID)
    assert (old.last_as_of, old.last_policy) == (date(2026, 1, 5), "")
    assert verify(ledger).ok
    summary = DailyCycle(ledger, PolicyHost(load_entry_points=False), schedule=Nobody()).run(
        date(2026, 1, 6))
    assert summary.accounts_reviewed == 1  # the schedule said none, the policy was unknown


class Nobody:
    """A review schedule that names no account."""

    def accounts_due(self, as_of):
        return [], 1


def test_an_account_with_its_case_work_snapshots_as_it_replays(store, ledger, customer):
    from huikuan.core.case_commands import (
        EndPause,
        HandOff,
        PauseDunning,
        RecordCost,
        RecordGuarantee,
        UpdateHandoff,
    )

    customer()
    ledger.execute("C-1", invoice("I-1", "100000.00", date(2026, 1, 1)))
    ledger.execute("C-1", PauseDunning(pause_id="PA-1", reason="审计", from_on=date(2026, 2, 1),
                                       until_on=date(2026, 2, 28)))
    ledger.execute("C-1", EndPause(pause_id="PA-1", ended_on=date(2026, 2, 10)))
    ledger.execute("C-1", HandOff(handoff_id="H-1", to="litigation", handed_on=date(2026, 3, 1),
                                  filed_on=date(2026, 3, 5)))
    ledger.execute("C-1", UpdateHandoff(handoff_id="H-1", on=date(2026, 4, 1),
                                        status="judgment", recovered_amount="10.00"))
    ledger.execute("C-1", RecordGuarantee(guarantee_id="G-1", kind="mortgage",
                                          given_on=date(2026, 2, 2), guarantor="某某公司"))
    for n in range(100):
        ledger.execute("C-1", RecordCost(cost_id=f"CO-{n}", amount="1.00", currency="HKD",
                                         incurred_on=date(2026, 3, 2), kind="postage"))
    assert [s.originator_version for s in ledger.snapshots.get(account_id("C-1"))] == [100]
    from_snapshot = store.open().account("C-1")
    from_events = Account.replay(list(ledger.events.get(account_id("C-1"))))
    assert vars(from_snapshot) == vars(from_events)
    assert from_snapshot.cases["H-1"]["recovered"] == Decimal("10.00")
    assert len(from_snapshot.costs) == 100
