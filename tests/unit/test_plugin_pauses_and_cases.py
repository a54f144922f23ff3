"""Dunning stops (暂缓催收) and hand-offs (移交) in the shipped plugins, unit by unit: the
ladder neither climbs for stopped money nor counts its days, the outbox holds a demand
about stopped money and cancels one about money with a party, and what huikuan gives a
plugin is what its builders give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from huikuan.core.account import Account
from huikuan.core.policy import view_of
from huikuan.core.testing import (
    DAY,
    account_view,
    case_view,
    invoice_view,
    message_view,
    outgoing_message,
    pause_view,
    settings,
)
from huikuan.plugins import demands, escalation, priority

I1 = invoice_view()  # due 2026-01-31
I2 = invoice_view(invoice_id="I-2", amount="500.00", issued_on=date(2026, 1, 6))  # due 02-05
LADDER = settings()
SHANGHAI = ZoneInfo("Asia/Shanghai")


def decide(account, day):
    return escalation.huikuan_escalation(account, day, LADDER)


def test_a_stopped_account_stays_where_it_is_with_its_supply_hold():
    account = account_view(invoices=[I1], stage="hold", supply_hold=True,
                           pauses=[pause_view()])
    decision = decide(account, date(2026, 2, 20))
    assert (decision.stage, decision.supply_hold, decision.messages) == ("hold", None, ())
    assert decision.based_on["not_chased"] == {"I-1": "dunning stop P-1 until 2026-02-28"}


def test_the_days_of_a_stop_do_not_count_toward_the_ladder():
    account = account_view(invoices=[I1], stage="notice",
                           pauses=[pause_view(from_on=date(2026, 2, 2))])  # 27 days
    assert decide(account, date(2026, 3, 13)).stage == "notice"
    warning = decide(account, date(2026, 3, 14))
    assert warning.stage == "warning"
    assert (warning.based_on["days_paused"], warning.based_on["paused_by"]) == (
        27, ["dunning stop P-1"])
    # Ended early, on 2026-02-10: eight days stopped, the warning on 2026-02-23.
    ended = account_view(invoices=[I1], stage="notice", pauses=[pause_view(
        from_on=date(2026, 2, 2), ended_on=date(2026, 2, 10))])
    assert decide(ended, date(2026, 2, 22)).stage == "notice"
    assert decide(ended, date(2026, 2, 23)).stage == "warning"


def test_a_stop_of_one_invoice_leaves_the_ladder_to_the_others():
    account = account_view(invoices=[I1, I2], stage="none",
                           pauses=[pause_view(invoice_ids=["I-1"], from_on=DAY)])
    decision = decide(account, date(2026, 2, 6))
    assert decision.stage == "notice"
    assert {m.invoice_ids for m in decision.messages} == {("I-2",)}
    assert decision.based_on["oldest_invoice"] == "I-2"
    assert account.chaseable(date(2026, 2, 6)) == [I2]
    assert account.chaseable(date(2026, 3, 1)) == [I1, I2]


def test_a_case_keeps_its_invoices_off_the_ladder_until_returned():
    with_agency = account_view(invoices=[I1], stage="notice", cases=[case_view()])
    assert decide(with_agency, date(2026, 6, 1)).stage == "notice"
    assert with_agency.chaseable(date(2026, 6, 1)) == []
    closed = account_view(invoices=[I1], stage="notice", cases=[case_view(status="closed")])
    assert closed.chaseable(date(2026, 6, 1)) == []
    # Handed off on 2026-02-05, back on 2026-03-07: the 30 days with the agency do not
    # count, so the warning (15 days counted) comes on 2026-03-17.
    returned = account_view(invoices=[I1], stage="notice", cases=[case_view(
        handed_on=date(2026, 2, 5), status="returned", returned_on=date(2026, 3, 7))])
    assert decide(returned, date(2026, 3, 6)).stage == "notice"  # still with the agency
    assert decide(returned, date(2026, 3, 16)).stage == "notice"
    assert decide(returned, date(2026, 3, 17)).stage == "warning"


@hypothesis_settings(max_examples=60, deadline=None)
@given(start=st.integers(min_value=1, max_value=40), length=st.integers(min_value=1, max_value=60))
def test_a_stop_puts_each_step_off_by_the_days_it_ran_before_it(start, length):
    """Whatever the window, the warning (day 15) comes on the day the calendar and the
    stopped days together give: 15 days counted, the stopped ones not."""
    first = I1.due_on + timedelta(days=start)
    pause = pause_view(from_on=first, until_on=first + timedelta(days=length - 1))
    account = account_view(invoices=[I1], stage="notice", pauses=[pause])
    day = I1.due_on
    counted = 0
    while counted < 15:
        day += timedelta(days=1)
        if not pause.holds_on(day):
            counted += 1
    assert decide(account, day).stage == "warning"
    assert decide(account, day - timedelta(days=1)).stage == "notice"
    assert escalation.huikuan_next_review(account, day - timedelta(days=1), LADDER) == day


def test_the_next_review_comes_when_a_stop_begins_and_the_day_after_it_ends():
    account = account_view(invoices=[I1], stage="warning", pauses=[pause_view(
        from_on=date(2026, 2, 20), until_on=date(2026, 2, 24))])
    assert escalation.huikuan_next_review(account, date(2026, 2, 16), LADDER) == date(2026, 2, 20)
    assert priority.huikuan_next_review(account, date(2026, 2, 20), LADDER) == date(2026, 2, 25)


# ---- the outbox


def notice_about(*invoice_ids):
    return message_view(invoice_ids=invoice_ids)


def test_a_demand_about_stopped_money_waits_for_the_day_after_the_stop():
    account = account_view(invoices=[I1], pauses=[pause_view()],
                           messages=[notice_about("I-1")])
    now = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
    verdict = demands.huikuan_contact_allowed(outgoing_message(), account, now, LADDER)
    assert verdict is not None and not verdict.allowed
    assert verdict.hold_until == datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert verdict.reason == "dunning stop P-1 until 2026-02-28: customer's audit"
    # Before the stop and after it, no opinion; nor for a demand about other money too.
    for day in (datetime(2026, 1, 31, 2, tzinfo=UTC), datetime(2026, 3, 1, 2, tzinfo=UTC)):
        assert demands.huikuan_contact_allowed(outgoing_message(), account, day, LADDER) is None
    both = account_view(invoices=[I1, I2], pauses=[pause_view(invoice_ids=["I-1"])],
                        messages=[notice_about("I-1", "I-2")])
    assert demands.huikuan_contact_allowed(outgoing_message(), both, now, LADDER) is None


def test_an_open_ended_stop_holds_for_a_while_and_is_looked_at_again():
    account = account_view(invoices=[I1], pauses=[pause_view(until_on=None)],
                           messages=[notice_about("I-1")])
    now = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
    verdict = demands.huikuan_contact_allowed(outgoing_message(), account, now, LADDER)
    assert verdict is not None and verdict.hold_until == now + demands.HOLD_OPEN_ENDED
    assert "until ended" in verdict.reason


def test_a_demand_about_money_with_a_party_is_cancelled():
    account = account_view(invoices=[I1, I2], cases=[case_view()])
    verdict = demands.huikuan_message_obsolete(notice_about("I-1"), account, LADDER)
    assert verdict is not None and verdict.obsolete
    assert verdict.reason == "handed off: case H-1 (agency)"
    assert demands.huikuan_message_obsolete(notice_about("I-1", "I-2"), account, LADDER) is None
    returned = account_view(invoices=[I1], cases=[case_view(status="returned",
                                                            returned_on=date(2026, 4, 1))])
    assert demands.huikuan_message_obsolete(notice_about("I-1"), returned, LADDER) is None


# ---- what huikuan gives a plugin


def test_the_builders_give_what_the_account_gives():
    account = Account.register(customer_id="C-1", name="华东贸易有限公司", currency="CNY",
                               registered_on=DAY)
    account.issue_invoice(invoice_id="I-1", amount="1000.00", currency="CNY", issued_on=DAY)
    account.pause_dunning(pause_id="P-1", reason="customer's audit", from_on=date(2026, 2, 1),
                          until_on=date(2026, 2, 28))
    account.hand_off(handoff_id="H-1", to="agency", handed_on=date(2026, 3, 1))
    view = view_of(account)
    assert view.pauses == (pause_view(),)
    assert view.cases == (case_view(recovered="0.00"),)
    account.end_pause(pause_id="P-1", ended_on=date(2026, 2, 10))
    account.update_handoff(handoff_id="H-1", on=date(2026, 4, 1), status="returned",
                           recovered_amount="100.00")
    view = view_of(account)
    assert view.pauses == (pause_view(ended_on=date(2026, 2, 10)),)
    assert view.pauses[0].last_day == date(2026, 2, 9)
    assert view.cases == (case_view(status="returned", returned_on=date(2026, 4, 1),
                                    recovered="100.00"),)


def test_a_suit_filed_fills_the_filings_the_limitation_plugin_reads():
    account = Account.register(customer_id="C-1", name="华东贸易有限公司", currency="CNY",
                               registered_on=DAY)
    account.issue_invoice(invoice_id="I-1", amount="1000.00", currency="CNY", issued_on=DAY)
    account.hand_off(handoff_id="H-1", to="lawyer", handed_on=date(2026, 3, 1))
    assert view_of(account).filings == ()
    account.update_handoff(handoff_id="H-1", on=date(2026, 3, 20), status="filed")
    [filing] = view_of(account).filings
    assert (filing.kind, filing.filed_on, filing.invoice_ids) == (
        "litigation", date(2026, 3, 20), ("I-1",))


def test_the_worklist_names_a_stop_from_when_it_is_recorded_until_it_is_over():
    account = account_view(invoices=[I1], pauses=[pause_view()])

    def reasons(day):
        return [r for r in priority.huikuan_worklist_priority(account, day, LADDER).reasons
                if "P-1" in r]

    assert reasons(date(2026, 1, 20)) == [
        "dunning stop P-1 from 2026-02-01 until 2026-02-28: customer's audit"]
    assert reasons(date(2026, 2, 28)) == ["dunning stop P-1 until 2026-02-28: customer's audit"]
    assert reasons(date(2026, 3, 1)) == []
