"""Risk: danger signs found in the data or reported by collectors, weighed into a grade.

    [risk]
    lookback_days = 365
    grades = { B = 10, C = 25, D = 45, E = 70 }   # the score from which each grade starts
    [risk.weights]
    broken_promise = 20
    ...

Signs found in the data: ``broken_promise``, ``missed_installment``,
``bounced_payment``, ``paying_later`` (the last payments later than the ones before),
``unreachable`` (the last outbound contacts went unanswered). Signs reported by
collectors count with their own weight. Each sign counts up to three times.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from huikuan.core.plugin import (
    GRADES,
    AccountView,
    Grade,
    RiskAssessment,
    Settings,
    Signal,
    hookimpl,
)

WEIGHTS = {
    "broken_promise": 20, "missed_installment": 20, "bounced_payment": 25,
    "paying_later": 10, "unreachable": 15,
    "lawsuit": 30, "owner_unreachable": 30, "owner_accident": 20, "finance_avoiding": 20,
    "dumping_below_cost": 20, "postdated_cheques": 15, "bank_changes": 10,
    "office_downgrade": 10, "management_turnover": 10, "internal_conflict": 10,
    "speculation": 10, "oversized_order": 10, "overexpansion": 10,
    "own_receivables_stuck": 15,
}
GRADE_FROM = {"B": 10, "C": 25, "D": 45, "E": 70}


def _lateness(account: AccountView) -> list[tuple[date, int]]:
    """(received on, days late) of each payment that settled invoices."""
    due = {i.invoice_id: i.due_on for i in account.invoices}
    result = []
    for payment in sorted(account.payments, key=lambda p: p.received_on):
        if payment.bounced_on is not None or not payment.allocations:
            continue
        total = sum(payment.allocations.values(), Decimal(0))
        weighted = sum(
            (amount * (payment.received_on - due[invoice_id]).days
             for invoice_id, amount in payment.allocations.items() if invoice_id in due),
            Decimal(0),
        )
        result.append((payment.received_on, int(weighted / total)))
    return result


@hookimpl
def huikuan_risk_signals(account: AccountView, as_of: date, settings: Settings) -> list[Signal]:
    section = settings.section("risk")
    since = as_of - timedelta(days=int(section.get("lookback_days", 365)))
    signals = []
    for promise in account.promises:
        if promise.status == "broken" and promise.due_on >= since:
            signals.append(Signal("broken_promise", {"promise_id": promise.promise_id}))
    for plan in account.plans:
        for number in plan.missed:
            signals.append(Signal("missed_installment",
                                  {"plan_id": plan.plan_id, "installment": number}))
    for payment in account.payments:
        if payment.bounced_on is not None and since <= payment.bounced_on <= as_of:
            signals.append(Signal("bounced_payment", {"payment_id": payment.payment_id}))
    lateness = [days for received, days in _lateness(account) if received <= as_of]
    window = int(section.get("paying_later_payments", 3))
    if len(lateness) >= 2 * window:
        before = sum(lateness[-2 * window:-window]) / window
        recent = sum(lateness[-window:]) / window
        if recent - before >= int(section.get("paying_later_days", 10)):
            signals.append(Signal("paying_later", {"days_late_before": round(before),
                                                   "days_late_recently": round(recent)}))
    outbound = [c for c in account.contact_log if c.direction == "outbound"]
    outbound.sort(key=lambda c: c.occurred_at)
    streak = int(section.get("unreachable_after", 3))
    if len(outbound) >= streak and all(
        c.outcome in ("no_answer", "wrong_number") for c in outbound[-streak:]
    ):
        signals.append(Signal("unreachable", {"unanswered": streak}))
    for reported in account.reported_signals:
        if since <= reported.observed_on <= as_of:
            reported_on = reported.observed_on.isoformat()
            signals.append(Signal(reported.signal, {"reported_on": reported_on}))
    return signals


@hookimpl(trylast=True)
def huikuan_risk_score(
    account: AccountView, signals: list[Signal], as_of: date, settings: Settings
) -> RiskAssessment:
    section = settings.section("risk")
    weights = {**WEIGHTS, **dict(section.get("weights", {}))}
    counts = Counter(s.code for s in signals)
    score = min(100, sum(int(weights.get(code, 10)) * min(n, 3) for code, n in counts.items()))
    grade_from = {**GRADE_FROM, **dict(section.get("grades", {}))}
    grade: Grade = "A"
    for name in GRADES[1:]:
        if score >= int(grade_from[name]):
            grade = name
    return RiskAssessment(score=score, grade=grade, signals=tuple(sorted(counts)),
                          based_on={"counts": dict(counts), "weights_used": {
                              code: int(weights.get(code, 10)) for code in counts}})


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    # Signals enter the window on their date and leave it after lookback_days; the
    # lateness of payments counts them from the day they were received.
    window = timedelta(days=int(settings.section("risk").get("lookback_days", 365)) + 1)
    days = [p.due_on + window for p in account.promises if p.status == "broken"]
    for payment in account.payments:
        days.append(payment.received_on)
        if payment.bounced_on is not None:
            days += [payment.bounced_on, payment.bounced_on + window]
    for reported in account.reported_signals:
        days += [reported.observed_on, reported.observed_on + window]
    return min((d for d in days if d > as_of), default=None)
