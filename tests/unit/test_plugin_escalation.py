"""The default escalation ladder (plugins.escalation), decided from values alone."""

from datetime import date

from huikuan.core.testing import account_view, invoice_view, promise_view, settings
from huikuan.plugins.escalation import huikuan_escalation, huikuan_next_review

DUE = date(2026, 1, 31)
OWING = account_view(invoices=[invoice_view(invoice_id="I-1", due_on=DUE)])
DEFAULT = settings()


def test_a_reminder_by_email_the_day_before_the_due_date():
    decision = huikuan_escalation(OWING, date(2026, 1, 30), DEFAULT)
    assert decision.stage == "reminded"
    assert [(m.kind, m.channel, m.invoice_ids) for m in decision.messages] == [
        ("reminder", "email", ("I-1",))]


def test_the_day_after_a_notice_by_email_and_text_and_a_call_for_the_collector():
    decision = huikuan_escalation(OWING, date(2026, 2, 1), DEFAULT)
    assert decision.stage == "notice"
    assert decision.skipped == ("reminded",)
    assert [(m.kind, m.channel, m.deadline_days) for m in decision.messages] == [
        ("notice", "email", 7), ("notice", "sms", 7), ("call_task", "worklist", None)]
    assert decision.based_on["days_from_due"] == 1


def test_supply_is_held_from_thirty_days_past_due():
    assert huikuan_escalation(OWING, date(2026, 2, 28), DEFAULT).supply_hold is False
    decision = huikuan_escalation(OWING, date(2026, 3, 2), DEFAULT)
    assert (decision.stage, decision.supply_hold) == ("hold", True)
    assert [m.kind for m in decision.messages] == ["manager_review"]


def test_a_pending_promise_suspends_the_ladder():
    promised = account_view(invoices=OWING.invoices,
                            promises=[promise_view(due_on=date(2026, 2, 15))])
    assert huikuan_escalation(promised, date(2026, 2, 10), DEFAULT) is None
    assert huikuan_escalation(promised, date(2026, 2, 16), DEFAULT).stage == "warning"


def test_a_fully_disputed_account_is_not_chased_and_supply_is_released():
    disputed = account_view(stage="hold", supply_hold=True,
                            invoices=[invoice_view(due_on=DUE, disputed_amount="1000.00")])
    decision = huikuan_escalation(disputed, date(2026, 3, 20), DEFAULT)
    assert (decision.stage, decision.supply_hold, decision.messages) == ("none", False, ())


def test_an_excluded_customer_stays_where_it_is_without_a_supply_hold():
    excluded = account_view(customer_id="C-VIP", stage="notice", supply_hold=True,
                            invoices=OWING.invoices)
    decision = huikuan_escalation(excluded, date(2026, 3, 20),
                                  settings(escalation={"exclude_customers": ["C-VIP"]}))
    assert (decision.stage, decision.supply_hold) == ("notice", False)


def test_a_credit_grade_can_have_a_ladder_of_its_own():
    ladders = {"E": {"steps": [{"stage": "hold", "days": 0, "supply_hold": True}]}}
    graded = account_view(credit_grade="E", invoices=OWING.invoices)
    decision = huikuan_escalation(graded, DUE, settings(escalation={"ladders": ladders}))
    assert (decision.stage, decision.supply_hold) == ("hold", True)
    assert decision.based_on["ladder"] == "grade E"


def test_the_next_review_is_the_day_the_next_step_comes():
    assert huikuan_next_review(OWING, date(2026, 2, 1), DEFAULT) == date(2026, 2, 15)
    assert huikuan_next_review(account_view(), date(2026, 2, 1), DEFAULT) is None
