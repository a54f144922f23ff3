"""The daily cycle under the default policy: the seed cases of the contract, one by one."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from huikuan.core.account import Account, account_id
from huikuan.core.commands import (
    MakePromise,
    RaiseDispute,
    ReceivePayment,
    RegisterCustomer,
)
from huikuan.core.cycle import DailyCycle
from huikuan.core.errors import InvalidCommand
from huikuan.core.plugin import hookimpl
from huikuan.core.policy import PolicyHost
from tests.conftest import invoice

DUE = date(2026, 1, 31)  # I-1, issued 2026-01-01 on 30-day terms


def day(offset: int) -> date:
    return DUE + timedelta(days=offset)


@pytest.fixture
def run(ledger, policy):
    cycle = DailyCycle(ledger, policy)
    # These tests walk the ladder through dates that may lie after the real today.
    return lambda as_of: cycle.run(as_of, allow_future=True)


@pytest.fixture
def acme(ledger):
    ledger.register_customer(RegisterCustomer(
        customer_id="C-1", name="华东贸易有限公司", currency="CNY", collector="li.wei",
        registered_on=date(2026, 1, 1),
        contacts=[{"name": "财务", "email": "ap@acme.example", "phone": "+86 21 5555 0101"}]))
    ledger.execute("C-1", invoice("I-1", "1000.00", date(2026, 1, 1)))
    return "C-1"


def messages(ledger, customer_id="C-1"):
    return sorted((m.kind, m.channel) for m in ledger.account(customer_id).messages.values())


def queued(ledger, customer_id="C-1"):
    """The MessageQueued events of the account, in order."""
    return [e for e in ledger.events.get(account_id(customer_id))
            if isinstance(e, Account.MessageQueued)]


def test_the_default_ladder_step_by_step(ledger, acme, run):
    # Two days before the due date: nothing to do.
    run(day(-2))
    assert ledger.account(acme).stage == "none"
    assert messages(ledger) == []
    # The day before: a reminder e-mail with the exact amount (还款日前一天通知).
    run(day(-1))
    assert ledger.account(acme).stage == "reminded"
    reminder = queued(ledger)[-1]
    assert (reminder.kind, reminder.channel, reminder.amount) == ("reminder", "email",
                                                                  Decimal("1000.00"))
    assert "1000.00 CNY" in reminder.body and reminder.recipient == "ap@acme.example"
    # Due today: nothing new.
    run(day(0))
    assert len(queued(ledger)) == 1
    # The day after: notice by e-mail and text, and a call task for the collector.
    run(day(1))
    account = ledger.account(acme)
    assert account.stage == "notice"
    kinds = [(m.kind, m.channel) for m in queued(ledger)[1:]]
    assert kinds == [("notice", "email"), ("notice", "sms"), ("call_task", "worklist")]
    notice = queued(ledger)[1]
    assert notice.deadline == day(1) + timedelta(days=7)
    assert str(notice.deadline) in notice.body
    # +15: the warning letter.
    run(day(15))
    assert ledger.account(acme).stage == "warning"
    assert [m.kind for m in queued(ledger)[4:]] == ["warning", "warning"]
    # +30: supply held (暂停供货), the manager told.
    run(day(30))
    account = ledger.account(acme)
    assert (account.stage, account.supply_hold) == ("hold", True)
    assert [m.kind for m in queued(ledger)[6:]] == ["manager_review"]
    # +45: the lawyer's letter.
    run(day(45))
    assert ledger.account(acme).stage == "lawyer_letter"
    assert [(m.kind, m.channel) for m in queued(ledger)[7:]] == [("lawyer_letter", "letter")]
    # +90: hand-off review: agency or litigation.
    run(day(90))
    account = ledger.account(acme)
    assert (account.stage, account.supply_hold) == ("handoff", True)
    assert [m.kind for m in queued(ledger)[8:]] == ["handoff_review"]


def test_running_a_date_again_records_nothing_new(ledger, acme, run):
    run(day(1))
    version = ledger.account(acme).version
    summary = run(day(1))
    assert summary.accounts_changed == 0
    assert ledger.account(acme).version == version


def test_an_earlier_date_than_the_last_run_is_refused(ledger, acme, run):
    run(day(5))
    with pytest.raises(InvalidCommand, match="has run for 2026-02-05"):
        run(day(4))


def test_supply_is_released_on_payment(ledger, acme, run):
    run(day(30))
    assert ledger.account(acme).supply_hold
    ledger.execute(acme, ReceivePayment(payment_id="P-1", amount="1000.00", currency="CNY",
                                        received_on=day(31)))
    summary = run(day(31))
    account = ledger.account(acme)
    assert (account.stage, account.supply_hold) == ("none", False)
    assert summary.counts["supply_released"] == 1
    released = next(e for e in ledger.events.get(account.id)
                if isinstance(e, Account.SupplyReleased))
    assert (released.plugin, released.based_on["reason"]) == (
        "escalation", "nothing undisputed is open")


def test_only_the_undisputed_part_is_demanded(ledger, acme, run):
    ledger.execute(acme, RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="300.00",
                                      raised_on=date(2026, 1, 20), reason="短少"))
    run(day(1))
    notice = queued(ledger)[0]
    assert notice.amount == Decimal("700.00")
    assert "700.00 CNY" in notice.body and "1000.00" not in notice.body


def test_a_fully_disputed_account_is_never_chased(ledger, acme, run):
    ledger.execute(acme, RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="1000.00",
                                      raised_on=date(2026, 1, 20)))
    for offset in (-1, 1, 15, 30, 45, 90):
        run(day(offset))
    assert ledger.account(acme).stage == "none"
    assert messages(ledger) == []


def test_one_consolidated_notice_covers_every_overdue_invoice(ledger, acme, run):
    ledger.execute(acme, invoice("I-2", "250.00", date(2026, 1, 10)))  # due 2026-02-09
    run(day(12))  # 2026-02-12: both overdue
    notices = [m for m in queued(ledger) if m.channel == "email"]
    assert len(notices) == 1
    assert notices[0].invoice_ids == ["I-1", "I-2"]
    assert notices[0].amount == Decimal("1250.00")


def test_a_pending_promise_suspends_the_ladder_and_is_broken_the_day_after(ledger, acme, run):
    run(day(1))
    ledger.execute(acme, MakePromise(promise_id="PR-1", amount="1000.00", made_on=day(2),
                                     due_on=day(20), written=True))
    # +15 would be the warning, but the customer promised to pay by +20.
    run(day(15))
    run(day(20))
    account = ledger.account(acme)
    assert account.stage == "notice"
    assert account.promises["PR-1"].status == "pending"
    # The day after the promised date, unpaid: broken. The 19 days it ran (+2 to +20) do
    # not count: the account resumes at the notice, and the warning comes 19 days late.
    summary = run(day(21))
    account = ledger.account(acme)
    assert account.promises["PR-1"].status == "broken"
    assert summary.counts["promise_broken"] == 1
    assert account.stage == "notice"
    assert run(day(33)).counts["stage_entered"] == 0
    assert run(day(34)).counts["message:warning"] == 2
    assert ledger.account(acme).stage == "warning"
    assert "broken_promise" in account.risk["signals"]
    assert account.risk["grade"] != "A"


def test_a_kept_promise(ledger, acme, run):
    ledger.execute(acme, MakePromise(promise_id="PR-1", amount="400.00", made_on=day(2),
                                     due_on=day(10)))
    ledger.execute(acme, ReceivePayment(payment_id="P-1", amount="400.00", currency="CNY",
                                        received_on=day(9)))
    run(day(11))
    assert ledger.account(acme).promises["PR-1"].status == "kept"


def test_after_a_gap_the_account_goes_straight_to_its_step(ledger, acme, run):
    # No cycle ran for 45 days: only the lawyer's letter goes out; the rest is recorded
    # as skipped, not sent (no flood of the missed messages).
    run(day(45))
    account = ledger.account(acme)
    assert (account.stage, account.supply_hold) == ("lawyer_letter", True)
    assert [(m.kind, m.channel) for m in queued(ledger)] == [("lawyer_letter", "letter")]
    entered = [e for e in ledger.events.get(account.id) if isinstance(e, Account.StageEntered)]
    assert entered[-1].skipped == ["reminded", "notice", "warning", "hold"]


def test_classes_follow_the_days_past_due(ledger, acme, run):
    run(day(0))
    assert ledger.account(acme).invoices["I-1"].class_ == "not_due"
    run(day(1))
    assert ledger.account(acme).invoices["I-1"].class_ == "in_collection"
    run(day(91))
    assert ledger.account(acme).invoices["I-1"].class_ == "doubtful"
    run(day(181))
    assert ledger.account(acme).invoices["I-1"].class_ == "bad"
    run(day(366))
    assert ledger.account(acme).invoices["I-1"].class_ == "dead"


def test_every_decision_names_its_plugin_version_and_inputs(ledger, acme, run, policy):
    run(day(1))
    decisions = [e for e in ledger.events.get(account_id(acme))
                 if isinstance(e, Account.Decision)]
    assert decisions
    for decision in decisions:
        assert decision.plugin in policy.plugin_names
        assert decision.plugin_version
        assert decision.based_on
        assert decision.decided_on == day(1)
    stage = next(d for d in decisions if isinstance(d, Account.StageEntered))
    assert stage.based_on["oldest_invoice"] == "I-1"
    assert stage.based_on["days_from_due"] == 1


def test_a_replay_reproduces_every_decision_without_any_plugin(store, ledger, acme, run):
    for offset in (-1, 1, 15, 30):
        run(day(offset))
    live = ledger.account(acme)
    # A new process with no plugins at all reads the same account.
    replayed = Account.replay(list(store.open().events.get(account_id(acme))))
    assert vars(replayed) == vars(live)
    assert replayed.stage == "hold" and len(replayed.messages) == 7


class Exploding:
    """A third-party plugin with a bug that shows on one customer only."""

    @hookimpl(tryfirst=True)
    def huikuan_classify(self, account):
        if account.customer_id == "C-BAD":
            raise RuntimeError("boom")


def test_a_plugin_that_raises_is_isolated_and_reported(ledger, acme, settings_env):
    from huikuan.adapters.settings import load_settings
    from tests.conftest import REPO

    host = PolicyHost(load_settings(REPO / "plugins.toml", env=settings_env),
                      extra_plugins=[("exploding", Exploding())], load_entry_points=False)
    ledger.register_customer(RegisterCustomer(customer_id="C-BAD", name="x", currency="CNY"))
    ledger.execute("C-BAD", invoice("I-1", "10.00", date(2026, 1, 1)))
    summary = DailyCycle(ledger, host).run(day(1))
    assert summary.failures == [{"customer_id": "C-BAD", "plugin": "exploding",
                                 "hook": "huikuan_classify", "error": "RuntimeError('boom')"}]
    # Nothing was recorded for C-BAD; C-1 went on as usual.
    assert ledger.account("C-BAD").version == 2
    assert ledger.account(acme).stage == "notice"


def test_customers_can_be_excluded_from_the_ladder(ledger, acme, settings_env):
    from huikuan.core.plugin import Settings

    settings = Settings(sections={"escalation": {"exclude_customers": ["C-1"]}},
                        env=settings_env)
    DailyCycle(ledger, PolicyHost(settings, load_entry_points=False)).run(day(30))
    assert ledger.account(acme).stage == "none"


def test_late_interest_when_switched_on(ledger, acme, settings_env):
    from huikuan.core.plugin import Settings

    settings = Settings(sections={"interest": {"enabled": True, "benchmark_rate": "0.0310",
                                               "markup": "0.0055"}}, env=settings_env)
    cycle = DailyCycle(ledger, PolicyHost(settings, load_entry_points=False))
    cycle.run(day(10))
    # 1000.00 × 3.65 % / 365 × 10 days = 1.00
    assert ledger.account(acme).invoices["I-1"].interest == Decimal("1.00")
    ledger.execute(acme, ReceivePayment(payment_id="P-1", amount="1000.00", currency="CNY",
                                        received_on=day(11)))
    cycle.run(day(20))
    # The principal is paid; the interest already charged stays.
    invoice_ = ledger.account(acme).invoices["I-1"]
    assert (invoice_.open_amount, invoice_.interest) == (Decimal("0.00"), Decimal("1.00"))


def test_per_grade_ladders(ledger, settings_env):
    from huikuan.core.plugin import Settings

    fast = {"steps": [{"stage": "lawyer_letter", "days": 1,
                       "messages": [{"kind": "lawyer_letter", "channels": ["letter"]}]}]}
    settings = Settings(sections={"escalation": {"ladders": {"E": fast}}}, env=settings_env)
    for customer_id, grade in (("C-A", "A"), ("C-E", "E")):
        ledger.register_customer(RegisterCustomer(customer_id=customer_id, name="x",
                                                  currency="CNY", credit_grade=grade))
        ledger.execute(customer_id, invoice("I-1", "10.00", date(2026, 1, 1)))
    DailyCycle(ledger, PolicyHost(settings, load_entry_points=False)).run(day(1))
    assert ledger.account("C-A").stage == "notice"
    assert ledger.account("C-E").stage == "lawyer_letter"


def test_a_date_in_the_future_is_refused(ledger, acme, policy):
    with pytest.raises(InvalidCommand, match="is in the future"):
        DailyCycle(ledger, policy).run(date.today() + timedelta(days=3))
    assert DailyCycle(ledger, policy).last_as_of() is None


def test_plugin_output_that_is_not_plain_json_is_recorded_safely(ledger, acme, settings_env):
    from huikuan.adapters.settings import load_settings
    from tests.conftest import REPO

    class Sloppy:
        @hookimpl(tryfirst=True)
        def huikuan_escalation(self, account):
            from huikuan.core.plugin import EscalationDecision

            return EscalationDecision(stage="notice", based_on={"ratio": 0.25, "days": {1, 2}})

    host = PolicyHost(load_settings(REPO / "plugins.toml", env=settings_env),
                      extra_plugins=[("sloppy", Sloppy())], load_entry_points=False)
    summary = DailyCycle(ledger, host).run(day(1))
    assert summary.failures == []
    stage = next(e for e in ledger.events.get(account_id(acme))
                 if isinstance(e, Account.StageEntered))
    assert stage.based_on == {"ratio": "0.25", "days": [1, 2]}


def test_one_payment_keeps_one_promise_not_two(ledger, acme, run):
    ledger.execute(acme, MakePromise(promise_id="PR-1", amount="500.00", made_on=day(2),
                                     due_on=day(10)))
    ledger.execute(acme, MakePromise(promise_id="PR-2", amount="500.00", made_on=day(2),
                                     due_on=day(12)))
    ledger.execute(acme, ReceivePayment(payment_id="P-1", amount="500.00", currency="CNY",
                                        received_on=day(5)))
    run(day(13))
    promises = ledger.account(acme).promises
    assert (promises["PR-1"].status, promises["PR-2"].status) == ("kept", "broken")


def test_a_payment_within_the_grace_days_keeps_the_promise(ledger, acme, settings_env):
    from huikuan.core.plugin import Settings

    settings = Settings(sections={"commitments": {"grace_days": 3}}, env=settings_env)
    ledger.execute(acme, MakePromise(promise_id="PR-1", amount="500.00", made_on=day(2),
                                     due_on=day(10)))
    ledger.execute(acme, ReceivePayment(payment_id="P-1", amount="500.00", currency="CNY",
                                        received_on=day(12)))
    DailyCycle(ledger, PolicyHost(settings, load_entry_points=False)).run(day(14))
    assert ledger.account(acme).promises["PR-1"].status == "kept"
