"""The escalation ladder (催收程序), as rules in plugins.toml.

Days count from the due date of the oldest unpaid, undisputed invoice. The account
stands on the highest step whose day has come and whose conditions hold; when it
rises, only that step's messages go out (after a gap, the steps passed over are
recorded as skipped). Supply stays held from the first step that holds it until the
account falls below that step: when what is still owed (a payment, a credit note, a
dispute, a write-off of the oldest) no longer reaches a step that holds supply, the
hold is released, though the stage stays. A paid or fully disputed account falls back
to ``none``; otherwise a stage never goes backwards. Asked when facts arrive too
(core.after_facts), so a payment releases the hold in its own request.

Promises and plans cover money, not accounts (承诺只覆盖所承诺的金额). A commitment —
a promise (付款承诺) or a payment plan (分期付款) — *covers* on a day when what is still
promised that day reaches ``promise_min_cover`` of the undisputed amount overdue that
day. What is still promised is the amounts of all the commitments running that day
added together (several promises together may cover what none covers alone; a plan
counts the sum of its instalments) less the payments received since the first of them
was made. A promise runs from ``made_on`` through ``due_on``; a plan from ``agreed_on``
through its last instalment's date, or the date of the instalment it missed. A pending
promise or active plan that covers today suspends the ladder; one that does not (a
promise of 0.01 against 10,000 overdue) suspends nothing.

The clock stops while the account is covered (停表): the days a commitment that covered
ran (judged on its last day, or today while it runs) do not count toward the ladder's
days. A credit manager granted that time; when the promise is broken the account
resumes where it stood and climbs step by step, each step's demand sent, instead of
jumping to where the calendar alone would put it. Kept promises stop the clock too, for
the time granted. ``based_on`` records ``days_paused`` and the commitments that
stopped it.

Dunning stops (暂缓催收) and hand-offs (移交) take money off the ladder: an invoice under
a stop on the day, or handed off to a party (until the case is returned), is neither
counted nor demanded; the ladder climbs for the rest alone (days from the oldest of
the rest), and when nothing else is owed it stands where it is, supply hold and all.
As for a covering promise, the clock stops: the days an invoice was stopped or with a
party do not count toward its steps, so when the stop ends (or the case comes back)
the ladder resumes where it stood, step by step (``based_on`` names them in
``paused_by``, and the invoices left alone in ``not_chased``).

Whenever the account passes over steps (after any gap: cycles not run, a commitment
that did not cover), the debtor is never left without the written demand of the step
reached: if the step reached sends no demand (``hold``, ``handoff``: tasks only), the
demand of the highest step passed over goes with it (based_on ``demand_of``).

    [escalation]
    exclude_customers = ["C-VIP"]      # never escalated
    promise_min_cover = "1.0"          # share of the undisputed overdue a commitment
                                       # must cover to suspend the ladder (0 to 1)

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
    handoff_to = "agency"              # a hand-off review task proposes a case for this
                                       # party (agency lawyer litigation arbitration
                                       # internal_legal)
    fee = "50.00"                      # a fee (催收费) charged when the account enters
                                       # this step (FeeCharged; waivable), optional

    [escalation.ladders.E]             # a whole ladder of its own for credit grade E
    steps = [ ... ]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from huikuan.core.plugin import (
    DEMANDS,
    STAGES,
    AccountView,
    EscalationDecision,
    InvoiceView,
    MessageRequest,
    Settings,
    hookimpl,
)

Span = tuple[date, date, str]
"""(first day, last day, what): days on which the ladder's clock stood still."""

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


@dataclass(frozen=True)
class Commitment:
    """A promise or a plan as the ladder sees it: the money promised and the days it runs."""

    ref: str
    start: date
    end: date
    amount: Decimal
    running: bool
    """Pending (a promise) or active (a plan): it may still suspend the ladder."""


def min_cover(settings: Settings) -> Decimal:
    """``[escalation] promise_min_cover``: the share of the undisputed overdue amount a
    commitment must cover to suspend the ladder (default ``"1.0"``, all of it)."""
    return Decimal(str(settings.section("escalation").get("promise_min_cover", "1.0")))


def commitments(account: AccountView) -> list[Commitment]:
    found = [Commitment(f"promise {p.promise_id} due {p.due_on}", p.made_on, p.due_on,
                        p.amount, p.status == "pending") for p in account.promises]
    for plan in account.plans:
        if not plan.installments:
            continue
        missed = [i.due_on for i in plan.installments if i.number in plan.missed]
        end = min(missed) if missed else plan.installments[-1].due_on
        found.append(Commitment(f"payment plan {plan.plan_id}", plan.agreed_on, end,
                                sum((i.amount for i in plan.installments), Decimal(0)),
                                plan.status == "active"))
    return found


def overdue_on(account: AccountView, day: date) -> Decimal:
    """The undisputed amount overdue at the end of ``day``, as the facts known now give
    it: what is open now on the invoices due before it, plus what was paid on them after
    it (disputes, credits and write-offs are taken as they stand now). Money under a
    dunning stop that day, or with a party, is not counted: no commitment need cover it."""
    later: dict[str, Decimal] = {}
    for payment in account.payments:
        if payment.bounced_on is None and payment.received_on > day:
            for invoice_id, amount in payment.allocations.items():
                later[invoice_id] = later.get(invoice_id, Decimal(0)) + amount
    return sum((max(Decimal(0), i.undisputed_open + later.get(i.invoice_id, Decimal(0)))
                for i in account.invoices if i.due_on < day and not _stopped(account, i, day)),
               Decimal(0))


def _stopped(account: AccountView, invoice: InvoiceView, day: date) -> bool:
    if not account.pauses and not account.cases:
        return False
    return (account.pause_of(invoice.invoice_id, day) is not None
            or account.case_of(invoice.invoice_id, day) is not None)


def stops(account: AccountView, invoice: InvoiceView, as_of: date) -> list[Span]:
    """The days through ``as_of`` on which ``invoice`` was under a dunning stop or with a
    party (handed off, until the case was returned), as (first, last, what) spans."""
    spans: list[Span] = []
    for pause in account.pauses:
        if pause.covers(invoice.invoice_id):
            spans.append((pause.from_on, min(pause.last_day or as_of, as_of),
                          f"dunning stop {pause.pause_id}"))
    for case in account.cases:
        if case.covers(invoice.invoice_id):
            last = case.returned_on - timedelta(days=1) if case.returned_on else as_of
            spans.append((case.handed_on, min(last, as_of), f"hand-off {case.handoff_id}"))
    return spans


def promised_on(account: AccountView, day: date, found: Sequence[Commitment]) -> Decimal:
    """What is still promised on ``day``: the commitments running that day together, less
    the payments received since the first of them was made."""
    running = [c for c in found if c.start <= day <= c.end]
    if not running:
        return Decimal(0)
    since = min(c.start for c in running)
    paid = sum((p.amount for p in account.payments
                if p.bounced_on is None and since <= p.received_on <= day), Decimal(0))
    return max(Decimal(0), sum((c.amount for c in running), Decimal(0)) - paid)


def covers(account: AccountView, commitment: Commitment, as_of: date,
           found: Sequence[Commitment], share: Decimal) -> bool:
    """Whether a commitment covers: judged on its last day, or today while it runs."""
    day = min(commitment.end, as_of)
    if day < commitment.start:
        return False
    return promised_on(account, day, found) >= share * overdue_on(account, day)


def suspension(account: AccountView, as_of: date, share: Decimal = Decimal(1)) -> str | None:
    """Why the ladder waits, if it does: a pending promise or a running plan that covers
    today at least ``share`` of the undisputed overdue amount."""
    found = commitments(account)
    for commitment in found:
        if commitment.running and commitment.start <= as_of <= commitment.end and covers(
            account, commitment, as_of, found, share
        ):
            return commitment.ref
    return None


def paused(account: AccountView, since: date, as_of: date, share: Decimal,
           other: Sequence[Span] = ()) -> tuple[int, list[str]]:
    """The days after ``since`` through ``as_of`` on which the clock stood still (a
    covering commitment ran, or one of the ``other`` spans: a dunning stop, a hand-off),
    and what stopped it."""
    found = commitments(account)
    first = since + timedelta(days=1)
    spans = sorted([(max(c.start, first), min(c.end, as_of), c.ref)
                    for c in found if covers(account, c, as_of, found, share)]
                   + [(max(start, first), min(end, as_of), ref) for start, end, ref in other])
    days, reached, refs = 0, since, []
    for start, end, ref in spans:
        start = max(start, reached + timedelta(days=1))
        if start > end:
            continue
        days += (end - start).days + 1
        reached = end
        refs.append(ref)
    return days, refs


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
    share = min_cover(settings)
    if suspension(account, as_of, share):
        return None
    # Money under a dunning stop today, or with a party, is not chased: the ladder
    # climbs for the rest alone, and stands where it is when nothing else is owed.
    chaseable = account.chaseable(as_of)
    chased = {i.invoice_id for i in chaseable}
    left = {i.invoice_id: _why_left(account, i, as_of) for i in demandable
            if i.invoice_id not in chased}
    if not chaseable:
        return EscalationDecision(stage=account.stage, supply_hold=None,
                                  based_on={"reason": "nothing owed is left to chase",
                                            "not_chased": left})
    name, steps = ladder_for(account, settings)
    oldest = chaseable[0]
    calendar_days = (as_of - oldest.due_on).days
    stopped, stopped_by = paused(account, oldest.due_on, as_of, share,
                                 stops(account, oldest, as_of))
    days = calendar_days - stopped
    overdue = sum((i.undisputed_open for i in chaseable if i.due_on < as_of), Decimal(0))
    reached = [s for s in steps if int(s["days"]) <= days and _applies(s, account, overdue)]
    target = reached[-1] if reached else None
    based_on: dict[str, Any] = {
        "ladder": name, "oldest_invoice": oldest.invoice_id,
        "due_on": oldest.due_on.isoformat(), "days_from_due": days,
        "undisputed_overdue": str(overdue),
    }
    if stopped:
        based_on.update(calendar_days=calendar_days, days_paused=stopped,
                        paused_by=stopped_by, promise_min_cover=str(share))
    if left:
        based_on["not_chased"] = left
    hold = any(s.get("supply_hold") for s in reached)
    current = STAGES.index(account.stage) if account.stage in STAGES else 0
    if target is None or STAGES.index(target["stage"]) < current:
        if current > 0:
            # Money still owed: the account stays where it stands (a stage falls back only
            # when nothing undisputed is open). Its supply hold stays while a step that
            # holds supply is still reached; settled below it, supply is released.
            release = account.supply_hold and not hold
            return EscalationDecision(
                stage=account.stage, supply_hold=False if release else None,
                based_on={**based_on, "kept_stage": account.stage,
                          **({"hold_released": "no step that holds supply is reached"}
                             if release else {})})
        return EscalationDecision(stage="none", supply_hold=hold, based_on=based_on)
    passed = [s for s in reached[:-1] if STAGES.index(s["stage"]) > current]
    skipped = tuple(s["stage"] for s in passed)
    # The message demands what is overdue; a reminder (a step before the due date) names
    # what falls due by the step's day.
    horizon = int(target["days"])
    invoice_ids = [i.invoice_id for i in chaseable
                   if (i.due_on < as_of if horizon > 0 else (i.due_on - as_of).days <= -horizon)]
    requests = requests_for(target, invoice_ids)
    if STAGES.index(target["stage"]) > current and not _demands(target):
        # Never a step reached without its written demand: the one of the highest step
        # passed over goes with it (a hold or a hand-off sends none of its own).
        demanding = [s for s in passed if _demands(s)]
        if demanding:
            demand = {"messages": demanding[-1].get("messages", [])}
            requests = requests_for(demand, invoice_ids) + requests
            based_on["demand_of"] = demanding[-1]["stage"]
    if any(r.kind == "handoff_review" for r in requests):
        # The case the hand-off review proposes (a manager accepts it by posting it
        # as a hand-off): to whom, as the step says.
        based_on["handoff_to"] = str(target.get("handoff_to", "agency"))
    fee = target.get("fee")
    return EscalationDecision(
        stage=target["stage"], skipped=skipped, messages=tuple(requests),
        supply_hold=hold, based_on={**based_on, "step_days": horizon},
        fee=Decimal(str(fee)) if fee is not None else None,
    )


def _why_left(account: AccountView, invoice: InvoiceView, as_of: date) -> str:
    pause = account.pause_of(invoice.invoice_id, as_of)
    if pause is not None:
        return f"dunning stop {pause.pause_id} until {pause.last_day or 'ended'}"
    case = account.case_of(invoice.invoice_id, as_of)
    return f"hand-off {case.handoff_id} ({case.to})" if case else ""


def _demands(step: Mapping[str, Any]) -> bool:
    return any(m.get("kind") in DEMANDS and m.get("channels")
               for m in step.get("messages", []))


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
    # A commitment that stops the clock (or ceases to) may do so from the day after it
    # ends, whatever its status.
    days += [c.end + one for c in commitments(account)]
    _, steps = ladder_for(account, settings)
    for invoice in demandable:
        days.append(invoice.due_on + one)
        days += [invoice.due_on + timedelta(days=int(step["days"])) for step in steps]
    # A dunning stop starts, and ends (the day after its last).
    days += [p.from_on for p in account.pauses]
    days += [p.last_day + one for p in account.pauses if p.last_day is not None]
    # With the clock stopped for a while, each step comes that many days later.
    chaseable = account.chaseable(as_of)
    if chaseable:
        oldest = chaseable[0]
        share = min_cover(settings)
        counted = (as_of - oldest.due_on).days - paused(
            account, oldest.due_on, as_of, share, stops(account, oldest, as_of))[0]
        days += [as_of + timedelta(days=int(step["days"]) - counted) for step in steps
                 if int(step["days"]) > counted]
    return min((d for d in days if d > as_of), default=None)
