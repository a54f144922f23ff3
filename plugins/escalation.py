"""The escalation ladder (催收程序), as rules in plugins.toml.

Days count from the due date of the oldest unpaid, undisputed invoice. The account
stands on the highest step whose day has come and whose conditions hold; when it
rises, only that step's messages go out (after a gap, the steps passed over are
recorded as skipped). Supply stays held from the first step that holds it until the
account falls below that step. A pending promise or payment plan suspends the
ladder; a paid or fully disputed account falls back to ``none``.

    [escalation]
    exclude_customers = ["C-VIP"]      # never escalated

    [[escalation.steps]]
    stage = "notice"                   # none reminded notice warning hold lawyer_letter handoff
    days = 1                           # relative to the due date (-1: the day before)
    messages = [{ kind = "notice", channels = ["email", "sms"], deadline_days = 7 }]
    tasks = ["call_task"]              # work queued for the collector
    supply_hold = false
    min_overdue = "0"                  # conditions: undisputed overdue amount at least…
    risk_grades = []                   # …risk grade among these (empty: any)
    credit_grades = []                 # …credit grade among these
    tags = []                          # …the customer has one of these tags

    [escalation.ladders.E]             # a whole ladder of its own for credit grade E
    steps = [ ... ]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from huikuan.core.plugin import (
    STAGES,
    AccountView,
    EscalationDecision,
    MessageRequest,
    Settings,
    hookimpl,
)

# The contract's default policy.
DEFAULT_STEPS: list[dict[str, Any]] = [
    {"stage": "reminded", "days": -1,
     "messages": [{"kind": "reminder", "channels": ["email"]}]},
    {"stage": "notice", "days": 1,
     "messages": [{"kind": "notice", "channels": ["email", "sms"], "deadline_days": 7}],
     "tasks": ["call_task"]},
    {"stage": "warning", "days": 15,
     "messages": [{"kind": "warning", "channels": ["letter", "email"], "deadline_days": 7}]},
    {"stage": "hold", "days": 30, "supply_hold": True, "tasks": ["manager_review"]},
    {"stage": "lawyer_letter", "days": 45,
     "messages": [{"kind": "lawyer_letter", "channels": ["letter"], "deadline_days": 10}]},
    {"stage": "handoff", "days": 90, "tasks": ["handoff_review"]},
]


def ladder_for(account: AccountView, settings: Settings) -> tuple[str, list[Mapping[str, Any]]]:
    section = settings.section("escalation")
    ladders = section.get("ladders", {})
    grade = account.credit_grade
    if grade and grade in ladders:
        return f"grade {grade}", list(ladders[grade].get("steps", []))
    return "default", list(section.get("steps", DEFAULT_STEPS))


def _applies(step: Mapping[str, Any], account: AccountView, overdue: Decimal) -> bool:
    if overdue < Decimal(str(step.get("min_overdue", "0"))):
        return False
    if step.get("risk_grades") and account.risk_grade not in step["risk_grades"]:
        return False
    if step.get("credit_grades") and account.credit_grade not in step["credit_grades"]:
        return False
    return not (step.get("tags") and not set(step["tags"]) & set(account.tags))


def suspension(account: AccountView, as_of: date) -> str | None:
    """Why the ladder waits, if it does: a pending promise or a running plan."""
    for promise in account.promises:
        if promise.status == "pending" and promise.due_on >= as_of:
            return f"promise {promise.promise_id} due {promise.due_on}"
    for plan in account.plans:
        if plan.status == "active" and plan.installments and (
            plan.installments[-1].due_on >= as_of
        ):
            return f"payment plan {plan.plan_id}"
    return None


def requests_for(step: Mapping[str, Any], invoice_ids: Sequence[str]) -> list[MessageRequest]:
    requests = [
        MessageRequest(kind=m["kind"], channel=channel, invoice_ids=tuple(invoice_ids),
                       deadline_days=m.get("deadline_days"))
        for m in step.get("messages", [])
        for channel in m.get("channels", [])
    ]
    requests += [MessageRequest(kind=task, channel="worklist", invoice_ids=tuple(invoice_ids))
                 for task in step.get("tasks", [])]
    return requests


@hookimpl(trylast=True)
def huikuan_escalation(
    account: AccountView, as_of: date, settings: Settings
) -> EscalationDecision | None:
    section = settings.section("escalation")
    if account.customer_id in section.get("exclude_customers", []):
        # Never escalated, and never left with supply held from before the exclusion.
        return EscalationDecision(stage=account.stage, supply_hold=False,
                                  based_on={"reason": "excluded from the ladder"})
    demandable = account.demandable()
    if not demandable:
        # Paid, or all that is open is disputed: never chased.
        return EscalationDecision(stage="none", supply_hold=False,
                                  based_on={"reason": "nothing undisputed is open"})
    waiting = suspension(account, as_of)
    if waiting:
        return None
    name, steps = ladder_for(account, settings)
    oldest = demandable[0]
    days = (as_of - oldest.due_on).days
    overdue = account.undisputed_overdue(as_of)
    reached = [s for s in steps if int(s["days"]) <= days and _applies(s, account, overdue)]
    target = reached[-1] if reached else None
    based_on = {
        "ladder": name, "oldest_invoice": oldest.invoice_id,
        "due_on": oldest.due_on.isoformat(), "days_from_due": days,
        "undisputed_overdue": str(overdue),
    }
    hold = any(s.get("supply_hold") for s in reached)
    current = STAGES.index(account.stage) if account.stage in STAGES else 0
    skipped = tuple(
        s["stage"] for s in reached[:-1] if STAGES.index(s["stage"]) > current
    )
    if target is None:
        return EscalationDecision(stage="none", supply_hold=hold, based_on=based_on)
    # The message demands what is overdue; a reminder (a step before the due date) names
    # what falls due by the step's day.
    horizon = int(target["days"])
    invoice_ids = [i.invoice_id for i in demandable
                   if (i.due_on < as_of if horizon > 0 else (i.due_on - as_of).days <= -horizon)]
    return EscalationDecision(
        stage=target["stage"], skipped=skipped,
        messages=tuple(requests_for(target, invoice_ids)),
        supply_hold=hold, based_on={**based_on, "step_days": horizon},
    )


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    if account.customer_id in settings.section("escalation").get("exclude_customers", []):
        return None
    demandable = account.demandable()
    if not demandable:
        return None
    one = timedelta(days=1)
    # A suspension ends the day after the promise's date or the plan's last instalment.
    days = [p.due_on + one for p in account.promises if p.status == "pending"]
    days += [plan.installments[-1].due_on + one for plan in account.plans
             if plan.status == "active" and plan.installments]
    # A step's day comes (counted from an invoice's due date), and what is overdue grows
    # as each invoice falls due.
    _, steps = ladder_for(account, settings)
    for invoice in demandable:
        days.append(invoice.due_on + one)
        days += [invoice.due_on + timedelta(days=int(step["days"])) for step in steps]
    return min((d for d in days if d > as_of), default=None)
