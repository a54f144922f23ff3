"""Danger signs found and weighed into a grade (plugins.risk)."""

from datetime import UTC, date, datetime, timedelta

from huikuan.core.testing import (
    account_view,
    contact_view,
    payment_view,
    promise_view,
    reported_signal,
    settings,
)
from huikuan.plugins.risk import huikuan_risk_score, huikuan_risk_signals

AS_OF = date(2026, 3, 1)


def assess(account, **tables):
    signals = huikuan_risk_signals(account, AS_OF, settings(**tables))
    return huikuan_risk_score(account, signals, AS_OF, settings(**tables))


def test_a_clean_history_is_grade_a():
    assessment = assess(account_view())
    assert (assessment.score, assessment.grade, assessment.signals) == (0, "A", ())


def test_a_broken_promise_and_a_bounced_payment_make_grade_d():
    account = account_view(
        promises=[promise_view(status="broken", due_on=date(2026, 2, 15))],
        payments=[payment_view(bounced_on=date(2026, 2, 20))])
    assessment = assess(account)
    assert (assessment.score, assessment.grade) == (45, "D")
    assert assessment.signals == ("bounced_payment", "broken_promise")


def test_three_unanswered_calls_in_a_row_make_the_customer_unreachable():
    calls = [contact_view(occurred_at=datetime(2026, 2, 1, 10, tzinfo=UTC) + timedelta(days=n),
                          outcome="no_answer") for n in range(3)]
    assert assess(account_view(contact_log=calls)).signals == ("unreachable",)
    answered = [*calls[:2], contact_view(occurred_at=datetime(2026, 2, 5, 10, tzinfo=UTC))]
    assert assess(account_view(contact_log=answered)).signals == ()


def test_a_reported_sign_counts_within_the_lookback_window_only():
    lawsuit = reported_signal(signal="lawsuit", observed_on=date(2026, 2, 1))
    assert assess(account_view(reported_signals=[lawsuit])).score == 30
    old = reported_signal(signal="lawsuit", observed_on=date(2025, 1, 1))
    assert assess(account_view(reported_signals=[old])).score == 0


def test_weights_and_grade_thresholds_come_from_plugins_toml():
    account = account_view(promises=[promise_view(status="broken", due_on=date(2026, 2, 15))])
    assessment = assess(account, risk={"weights": {"broken_promise": 70}})
    assert (assessment.score, assessment.grade) == (70, "E")
