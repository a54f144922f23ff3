"""The default escalation ladder (plugins.escalation), decided from values alone."""

from datetime import date

from huikuan.core.testing import (
    account_view,
    invoice_view,
    plan_view,
    promise_view,
    settings,
)
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
    warned = account_view(stage="warning", invoices=OWING.invoices)
    decision = huikuan_escalation(warned, date(2026, 3, 2), DEFAULT)
    assert (decision.stage, decision.supply_hold) == ("hold", True)
    assert [m.kind for m in decision.messages] == ["manager_review"]


def test_a_pending_promise_suspends_the_ladder_and_stops_its_clock():
    # 1000.00 promised against the 1000.00 overdue: the ladder waits while it runs, and
    # the 15 days it ran (1–15 February) do not count: broken, it resumes at the notice.
    promised = account_view(invoices=OWING.invoices,
                            promises=[promise_view(due_on=date(2026, 2, 15))])
    assert huikuan_escalation(promised, date(2026, 2, 10), DEFAULT) is None
    broken = account_view(invoices=OWING.invoices,
                          promises=[promise_view(due_on=date(2026, 2, 15), status="broken")])
    decision = huikuan_escalation(broken, date(2026, 2, 16), DEFAULT)
    assert decision.stage == "notice"
    assert (decision.based_on["days_from_due"], decision.based_on["days_paused"]) == (1, 15)
    assert decision.based_on["paused_by"] == ["promise PR-1 due 2026-02-15"]
    # The warning comes 14 counted days after the notice, not 15 calendar days from due.
    assert huikuan_next_review(broken, date(2026, 2, 16), DEFAULT) == date(2026, 3, 2)
    assert huikuan_escalation(broken, date(2026, 3, 2), DEFAULT).stage == "warning"


def test_a_promise_of_a_cent_suspends_nothing():
    cent = account_view(invoices=OWING.invoices,
                        promises=[promise_view(amount="0.01", made_on=date(2026, 1, 30),
                                               due_on=date(2026, 10, 31))])
    decision = huikuan_escalation(cent, date(2026, 2, 1), DEFAULT)
    assert decision.stage == "notice" and "days_paused" not in decision.based_on


def test_a_smaller_share_may_be_enough_when_the_policy_says_so():
    half = account_view(invoices=OWING.invoices,
                        promises=[promise_view(amount="500.00")])
    assert huikuan_escalation(half, date(2026, 2, 10), DEFAULT).stage == "notice"
    assert huikuan_escalation(
        half, date(2026, 2, 10), settings(escalation={"promise_min_cover": "0.5"})) is None


def test_two_promises_running_together_cover_what_neither_covers_alone():
    two = account_view(invoices=OWING.invoices, promises=[
        promise_view(promise_id="PR-1", amount="400.00"),
        promise_view(promise_id="PR-2", amount="600.00", made_on=date(2026, 2, 3))])
    assert huikuan_escalation(two, date(2026, 2, 2), DEFAULT).stage == "notice"
    assert huikuan_escalation(two, date(2026, 2, 10), DEFAULT) is None


def test_a_plan_covers_with_what_is_left_of_its_instalments():
    plan = plan_view((date(2026, 2, 15), "500.00"), (date(2026, 3, 15), "500.00"))
    planned = account_view(invoices=OWING.invoices, plans=[plan])
    assert huikuan_escalation(planned, date(2026, 2, 10), DEFAULT) is None
    short = plan_view((date(2026, 2, 15), "300.00"), (date(2026, 3, 15), "300.00"))
    assert huikuan_escalation(account_view(invoices=OWING.invoices, plans=[short]),
                              date(2026, 2, 10), DEFAULT).stage == "notice"


def test_a_jump_over_steps_never_leaves_the_debtor_without_a_written_demand():
    # Nothing ran for months: hand-off is reached, and the lawyer's letter goes with it.
    decision = huikuan_escalation(OWING, date(2026, 6, 1), DEFAULT)
    assert decision.stage == "handoff" and decision.based_on["demand_of"] == "lawyer_letter"
    assert [(m.kind, m.channel) for m in decision.messages] == [
        ("lawyer_letter", "letter"), ("handoff_review", "worklist")]


def test_a_stage_does_not_go_back_while_money_is_owed():
    # Retroactively covered (a dispute lowered what was overdue while the promise ran):
    # the count falls, the stage stays.
    warned = account_view(stage="warning", invoices=OWING.invoices,
                          promises=[promise_view(due_on=date(2026, 2, 15), status="broken")])
    decision = huikuan_escalation(warned, date(2026, 2, 20), DEFAULT)
    assert (decision.stage, decision.supply_hold) == ("warning", None)


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
