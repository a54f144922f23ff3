"""Promises and payment plans: kept, broken, missed (付款承诺, 分期付款).

A promise is kept once payments received since it was made cover its amount, and
broken the day after its date if they do not. An instalment is missed the day after
it falls due if payments since the plan was agreed do not cover the instalments so far.
``[commitments] grace_days`` (default 0) waits that many more days before breaking.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from core.plugin import AccountView, CommitmentOutcome, Settings, hookimpl


def _paid_between(account: AccountView, start: date, end: date) -> Decimal:
    return sum(
        (p.amount for p in account.payments
         if p.bounced_on is None and start <= p.received_on <= end),
        Decimal(0),
    )


@hookimpl
def huikuan_review_commitments(
    account: AccountView, as_of: date, settings: Settings
) -> list[CommitmentOutcome]:
    grace = timedelta(days=int(settings.section("commitments").get("grace_days", 0)))
    outcomes = []
    for promise in account.promises:
        if promise.status != "pending":
            continue
        paid = _paid_between(account, promise.made_on, min(as_of, promise.due_on))
        based_on = {"promised": str(promise.amount), "paid_since_made": str(paid),
                    "due_on": promise.due_on.isoformat()}
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
            paid = _paid_between(account, plan.agreed_on, installment.due_on)
            if paid < owed:
                outcomes.append(CommitmentOutcome(
                    "installment_missed", plan.plan_id, installment=installment.number,
                    based_on={"due_by_then": str(owed), "paid_by_then": str(paid),
                              "due_on": installment.due_on.isoformat()},
                ))
                break  # a missed instalment breaks the plan
    return outcomes
