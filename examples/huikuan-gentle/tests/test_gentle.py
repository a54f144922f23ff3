"""The gentle ladder, tested as a plugin author would: values from huikuan.core.testing,
no database, no server."""

from datetime import date

import huikuan_gentle

from huikuan.core.plugin import Settings
from huikuan.core.policy import PolicyHost
from huikuan.core.testing import account_view, invoice_view, policy_host, settings

GENTLE = settings(gentle={"tags": ["key-account"], "courtesy_call_days": 3})
DUE = date(2026, 1, 31)
KEY = account_view(customer_id="KEY-1", tags=["key-account"],
                   invoices=[invoice_view(invoice_id="I-1", amount="500.00", due_on=DUE)])
PLAIN = account_view(customer_id="PLAIN-1",
                     invoices=[invoice_view(invoice_id="I-1", amount="500.00", due_on=DUE)])


def escalate(host, account, as_of):
    """What the cycle would decide, and which plugin decided it."""
    return host.first("huikuan_escalation", account=account, as_of=as_of)


def test_key_accounts_get_a_courtesy_call_instead_of_a_notice():
    decision = huikuan_gentle.huikuan_escalation(KEY, date(2026, 2, 3), GENTLE)  # +3
    assert decision.stage == "notice"
    assert [(m.kind, m.channel, m.invoice_ids) for m in decision.messages] == [
        ("call_task", "worklist", ("I-1",))]


def test_key_accounts_never_have_supply_held():
    decision = huikuan_gentle.huikuan_escalation(KEY, date(2026, 3, 20), GENTLE)  # +48
    assert decision.stage == "hold"
    assert decision.skipped == ("notice", "warning")
    assert decision.supply_hold is False


def test_other_accounts_are_left_to_the_default_ladder():
    assert huikuan_gentle.huikuan_escalation(PLAIN, date(2026, 2, 3), GENTLE) is None
    host = policy_host({"gentle": huikuan_gentle}, settings=GENTLE)
    decision, decided_by = escalate(host, PLAIN, date(2026, 2, 3))
    assert decided_by.name == "escalation"
    assert sorted(m.kind for m in decision.messages) == ["call_task", "notice", "notice"]
    decision, decided_by = escalate(host, PLAIN, date(2026, 3, 20))
    assert decision.supply_hold is True


def test_huikuan_asks_the_gentle_ladder_first_and_records_it_with_its_version():
    host = policy_host({"gentle": huikuan_gentle}, settings=GENTLE)
    decision, decided_by = escalate(host, KEY, date(2026, 2, 3))
    assert (decided_by.name, decided_by.version) == ("gentle", "1.0.0")
    assert decision.stage == "notice"


def test_a_paid_key_account_falls_back_to_no_stage_and_releases_supply():
    paid = account_view(tags=["key-account"], stage="hold",
                        invoices=[invoice_view(due_on=DUE, open_amount="0.00")])
    decision = huikuan_gentle.huikuan_escalation(paid, date(2026, 3, 20), GENTLE)
    assert (decision.stage, decision.supply_hold) == ("none", False)


def test_the_cycle_need_not_look_at_a_key_account_before_its_next_step():
    assert huikuan_gentle.huikuan_next_review(KEY, date(2026, 2, 3), GENTLE) == date(2026, 2, 20)
    assert huikuan_gentle.huikuan_next_review(KEY, date(2026, 3, 20), GENTLE) is None
    assert huikuan_gentle.huikuan_next_review(PLAIN, date(2026, 2, 3), GENTLE) is None


def test_switched_on_by_its_entry_point_and_plugins_toml_alone():
    named = ["commitments", "classes", "risk", "escalation", "templates", "worklist"]
    on = PolicyHost(Settings(sections={"huikuan": {"plugins": [*named, "gentle"]},
                                       "gentle": GENTLE.section("gentle")}))
    assert "gentle" in on.plugin_names and on.versions["gentle"] == "1.0.0"
    off = PolicyHost(Settings(sections={"huikuan": {"plugins": named}}))
    assert "gentle" not in off.plugin_names
    decision, decided_by = escalate(off, KEY, date(2026, 2, 3))
    assert decided_by.name == "escalation"
    assert sorted(m.kind for m in decision.messages) == ["call_task", "notice", "notice"]
