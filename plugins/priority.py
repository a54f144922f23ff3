"""Worklist priority (轻重缓急): whom a collector should call first.

The score adds the overdue amount (log scale), the days past due, the risk grade,
promises falling due today, promises the review flagged and tasks the ladder queued;
the reasons say why. Money under a dunning stop (暂缓催收) or handed off to a party is not
counted: the stop (with its last day and reason) and the case are named in the reasons.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from huikuan.core.plugin import AccountView, Settings, WorkPriority, hookimpl

GRADE_POINTS = {"A": 0, "B": 5, "C": 10, "D": 20, "E": 30}


@hookimpl(trylast=True)
def huikuan_worklist_priority(
    account: AccountView, as_of: date, settings: Settings
) -> WorkPriority:
    # Money under a dunning stop today or with a party is not the collector's to chase:
    # it is named in the reasons, not counted in the score.
    demandable = account.chaseable(as_of)
    overdue = sum((i.undisputed_open for i in demandable if i.due_on < as_of), Decimal(0))
    days = max((i.days_overdue(as_of) for i in demandable), default=0)
    reasons = []
    score = 0
    if overdue > 0:
        score += int(10 * (overdue + 1).log10())
        reasons.append(f"{overdue} {account.currency} overdue")
        score += min(days, 365) // 5
        # A date, not a count of days: the reason stays true on the days in between.
        reasons.append(f"past due since {min(i.due_on for i in demandable)}")
    score += GRADE_POINTS.get(account.risk_grade, 0)
    if account.risk_grade in ("D", "E"):
        reasons.append(f"risk grade {account.risk_grade}")
    due_today = [p for p in account.promises if p.status == "pending" and p.due_on == as_of]
    if due_today:
        score += 15
        reasons.append("promise due today")
    # A promise the review flagged (a date beyond the maximum grace) needs a word with
    # the debtor, or a manager's yes, before it is left to run.
    flagged = [p for p in account.promises if p.status == "pending" and p.concerns]
    if flagged:
        score += 5
        reasons.append(f"promise {flagged[0].promise_id} flagged: {flagged[0].concerns[0]}")
    tasks = [m for m in account.messages if m.channel == "worklist"]
    if tasks:
        score += 10
        reasons.append(f"ladder task: {tasks[-1].kind}")
    pauses = [p for p in account.pauses if p.holds_on(as_of)]
    for pause in account.pauses:
        if pause.last_day is not None and pause.last_day < max(as_of, pause.from_on):
            continue  # over, or ended before it began
        begins = f" from {pause.from_on}" if pause.from_on > as_of else ""
        reasons.append(f"dunning stop {pause.pause_id}{begins} until "
                       f"{pause.last_day or 'ended'}: {pause.reason}")
    cases = [c for c in account.cases if c.holds_on(as_of)]
    for case in cases:
        number = f" {case.case_number}" if case.case_number else ""
        party = f" {case.party}" if case.party else ""
        reasons.append(f"handed off to {case.to}{party}: case {case.handoff_id}{number}, "
                       f"{case.status}")
    action = {
        "none": "no action", "reminded": "check payment arrives", "notice": "call",
        "warning": "call and visit", "hold": "visit; supply on hold",
        "lawyer_letter": "escalate: legal", "handoff": "hand off: agency or litigation",
    }.get(account.stage, "call")
    if overdue <= 0 and cases:  # what is overdue is all with a party (or stopped)
        action = "follow the case"
    elif overdue <= 0 and pauses:
        action = "wait: dunning stopped"
    if due_today:
        action = "confirm promised payment"
    return WorkPriority(score=score, reasons=tuple(reasons), suggested_action=action)


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    # The score moves when an invoice falls due, every fifth day past due (up to a
    # year), and on a promise's date and the day after.
    one = timedelta(days=1)
    demandable = account.demandable()
    days = [i.due_on + one for i in demandable]
    if demandable:
        oldest = min(i.due_on for i in demandable)
        days += [oldest + timedelta(days=n) for n in range(5, 366, 5)]
    for promise in account.promises:
        if promise.status == "pending":
            days += [promise.due_on, promise.due_on + one]
    # A dunning stop shows from its first day to its last.
    days += [p.from_on for p in account.pauses]
    days += [p.last_day + one for p in account.pauses if p.last_day is not None]
    return min((d for d in days if d > as_of), default=None)
