"""Worklist priority (轻重缓急): whom a collector should call first.

The score adds the overdue amount (log scale), the days past due, the risk grade,
promises falling due today and tasks the ladder queued; the reasons say why.
"""

from __future__ import annotations

from datetime import date

from core.plugin import AccountView, Settings, WorkPriority, hookimpl

GRADE_POINTS = {"A": 0, "B": 5, "C": 10, "D": 20, "E": 30}


@hookimpl(trylast=True)
def huikuan_worklist_priority(
    account: AccountView, as_of: date, settings: Settings
) -> WorkPriority:
    overdue = account.undisputed_overdue(as_of)
    demandable = account.demandable()
    days = max((i.days_overdue(as_of) for i in demandable), default=0)
    reasons = []
    score = 0
    if overdue > 0:
        score += int(10 * (overdue + 1).log10())
        reasons.append(f"{overdue} {account.currency} overdue")
        score += min(days, 365) // 5
        reasons.append(f"{days} days past due")
    score += GRADE_POINTS.get(account.risk_grade, 0)
    if account.risk_grade in ("D", "E"):
        reasons.append(f"risk grade {account.risk_grade}")
    due_today = [p for p in account.promises if p.status == "pending" and p.due_on == as_of]
    if due_today:
        score += 15
        reasons.append("promise due today")
    tasks = [m for m in account.messages if m.channel == "worklist"]
    if tasks:
        score += 10
        reasons.append(f"ladder task: {tasks[-1].kind}")
    action = {
        "none": "no action", "reminded": "check payment arrives", "notice": "call",
        "warning": "call and visit", "hold": "visit; supply on hold",
        "lawyer_letter": "escalate: legal", "handoff": "hand off: agency or litigation",
    }.get(account.stage, "call")
    if due_today:
        action = "confirm promised payment"
    return WorkPriority(score=score, reasons=tuple(reasons), suggested_action=action)
