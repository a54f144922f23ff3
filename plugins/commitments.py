"""Promises and payment plans: kept, broken, missed (付款承诺, 分期付款).

A promise is kept once payments received since it was made cover its amount, and
broken the day after its date if they do not. An instalment is missed the day after
it falls due if payments since the plan was agreed do not cover the instalments so far.
``[commitments] grace_days`` (default 0) waits that many more days before breaking.

A promise dated more than ``[commitments] max_promise_days`` (60) after it was made is
flagged for the collector (``beyond_max = "flag"``, the default) or refused
(``beyond_max = "refuse"``): the seeds allow 7 to 15 days, never over 60.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from huikuan.core.plugin import (
    AccountView,
    CommitmentOutcome,
    PromiseVerdict,
    PromiseView,
    Settings,
    hookimpl,
)

MAX_PROMISE_DAYS = 60


@hookimpl
def huikuan_review_commitments(
    account: AccountView, as_of: date, settings: Settings
) -> list[CommitmentOutcome]:
    grace = timedelta(days=int(settings.section("commitments").get("grace_days", 0)))
    outcomes = []
    # Each payment counts once: promises take the payments in their window in the
    # order they fall due, so two promises cannot both be kept by one payment.
    payments = sorted((p for p in account.payments if p.bounced_on is None),
                      key=lambda p: (p.received_on, p.payment_id))
    left = {p.payment_id: p.amount for p in payments}
    for promise in sorted(account.promises, key=lambda p: (p.due_on, p.made_on, p.promise_id)):
        window_end = min(as_of, promise.due_on + grace)
        needed = promise.amount
        paid = Decimal(0)
        for payment in payments:
            if promise.made_on <= payment.received_on <= window_end and needed > paid:
                take = min(left[payment.payment_id], needed - paid)
                left[payment.payment_id] -= take
                paid += take
        if promise.status != "pending":
            continue
        based_on = {"promised": str(promise.amount), "paid_towards_it": str(paid),
                    "due_on": promise.due_on.isoformat(), "grace_days": grace.days}
        if paid >= promise.amount:
            outcomes.append(CommitmentOutcome("promise_kept", promise.promise_id,
                                              based_on=based_on))
        elif as_of > promise.due_on + grace:
            outcomes.append(CommitmentOutcome("promise_broken", promise.promise_id,
                                              based_on=based_on))
    for plan in account.plans:
        if plan.status != "active":
            continue
        owed = Decimal(0)
        for installment in plan.installments:
            owed += installment.amount
            if as_of <= installment.due_on + grace or installment.number in plan.missed:
                continue
            paid = sum((p.amount for p in payments
                        if plan.agreed_on <= p.received_on <= installment.due_on + grace),
                       Decimal(0))
            if paid < owed:
                outcomes.append(CommitmentOutcome(
                    "installment_missed", plan.plan_id, installment=installment.number,
                    based_on={"due_by_then": str(owed), "paid_by_then": str(paid),
                              "due_on": installment.due_on.isoformat()},
                ))
                break  # a missed instalment breaks the plan
    return outcomes


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    # A promise is broken, an instalment missed, the day after its date (and the grace
    # days); being kept or paid needs a payment, which is a fact of its own.
    after = timedelta(days=int(settings.section("commitments").get("grace_days", 0)) + 1)
    days = [p.due_on + after for p in account.promises if p.status == "pending"]
    for plan in account.plans:
        if plan.status == "active":
            days += [i.due_on + after for i in plan.installments if i.number not in plan.missed]
    return min((d for d in days if d > as_of), default=None)


@hookimpl(trylast=True)
def huikuan_review_promise(
    promise: PromiseView, account: AccountView, settings: Settings
) -> PromiseVerdict:
    section = settings.section("commitments")
    most = int(section.get("max_promise_days", MAX_PROMISE_DAYS))
    days = (promise.due_on - promise.made_on).days
    if days <= most:
        return PromiseVerdict(accepted=True)
    why = (f"promise {promise.promise_id} falls due {days} days after it was made, beyond "
           f"the policy's {most} days (max_promise_days)")
    if section.get("beyond_max", "flag") == "refuse":
        return PromiseVerdict(accepted=False, reasons=(why,))
    return PromiseVerdict(accepted=True, concerns=(why,))
