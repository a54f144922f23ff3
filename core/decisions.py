"""What the read views need from policy, decided by plugins and recorded as events.

The views (``projections/``) never ask a plugin: a limitation deadline and a place in
the worklist are decisions like a class or a stage, so the daily cycle asks the
plugins when it reviews an account and records what they answered, with the plugin,
its version and what it was based on. The views fold those events, so a rebuild
gives the same rows whatever plugins are installed when it runs.

- ``DeadlinesDecided``: the limitation deadline (诉讼时效) of each open invoice whose
  deadline changed (``huikuan_limitation_deadline``); None: no plugin named one.
- ``PriorityDecided``: the account's place in its collector's queue for the cycle's
  date (``huikuan_worklist_priority``); ``priority`` None: the plugins left it out.

The cycle reviews every account with a fact since its last review, and the first
cycle of a store whose cycles did not record these yet reviews every account (see
``core.cycle.RECORDS``), so each account gets them once, then whenever they change.
They are also decided when a fact arrives, for the date of the last cycle (as the
views ranked an account when they asked the plugins themselves): the ledger asks
``DailyCycle.decide_after_facts`` (wired by the bootstrap) for the priority and for
the deadlines the new facts may have moved (an acknowledgment, a payment, a plan),
and records what changed in the same save as the facts. Before any cycle has run,
nothing is decided: the facts are read as version 1 read them.

An invoice or account that no cycle has decided for (everything in a store written
before these events existed; an invoice issued since the last review) is read as
huikuan 1 read it, with the shipped rules frozen here: ``v1_deadline`` and
``v1_priority``, the ``limitation`` and ``priority`` plugins at their shipped
settings. That reading depends on the recorded facts alone, so a store written by
version 1 opens, answers and rebuilds exactly as before, without a plugin and
without anything appended to its accounts (its history and its event count stay
what they were). Never change these two with the plugins: they are the meaning of
old records, like an upcaster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from huikuan.core.account import Account
from huikuan.core.plugin import AccountView, InvoiceView

# The events are the account's (core/account/decisions.py); named here for the cycle.
DeadlinesDecided = Account.DeadlinesDecided
PriorityDecided = Account.PriorityDecided


@dataclass(frozen=True)
class Priority:
    """A recorded (or, for older records, derived) place in the worklist."""

    decided_on: date | None
    score: int | None  # None: not on the worklist
    reasons: tuple[str, ...] = ()
    suggested_action: str = ""

    def same_as(self, other: Priority | None) -> bool:
        """The same place, whatever day it was decided on."""
        return other is not None and (self.score, self.reasons, self.suggested_action) == (
            other.score, other.reasons, other.suggested_action)


def recorded_deadlines(account: Account) -> Mapping[str, date | None]:
    """The deadlines decided so far, by invoice (an invoice not in it: none decided)."""
    return account.limitation_deadlines


def recorded_priority(account: Account) -> Priority | None:
    """The place last decided for the account, or None if none was ever decided."""
    found = account.worklist_priority
    if found is None:
        return None
    return Priority(found["decided_on"], found["priority"], tuple(found["reasons"]),
                    found["suggested_action"])


# ---- what the views show

def limitation_deadline(account: Account, view: AccountView, invoice: InvoiceView) -> date | None:
    """The deadline of an open invoice: as recorded, or read as version 1 did."""
    recorded = recorded_deadlines(account)
    if invoice.invoice_id in recorded:
        return recorded[invoice.invoice_id]
    return v1_deadline(invoice, view)


def worklist_priority(account: Account, view: AccountView, as_of: date) -> Priority:
    """The account's place in the worklist: the last one recorded, or for an account
    never reviewed since decisions were recorded, read as version 1 did for ``as_of``."""
    return recorded_priority(account) or v1_priority(view, as_of)


# ---- the reading of version 1 (frozen: never change it with the plugins)

def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def v1_deadline(invoice: InvoiceView, account: AccountView) -> date:
    """Three years from the due date, or from the last instalment of a plan agreed for
    the debt, an acknowledgment, a written promise or a payment settling part of it."""
    start = invoice.due_on
    for plan in account.plans:
        if plan.agreed_on >= invoice.issued_on and plan.installments:
            start = max(start, plan.installments[-1].due_on)
    if invoice.acknowledged_on:
        start = max(start, invoice.acknowledged_on)
    for promise in account.promises:
        if promise.written and promise.made_on >= invoice.issued_on:
            start = max(start, promise.made_on)
    for payment in account.payments_settling(invoice.invoice_id):
        start = max(start, payment.received_on)
    return _add_years(start, 3)


_V1_GRADE_POINTS = {"A": 0, "B": 5, "C": 10, "D": 20, "E": 30}
_V1_ACTIONS = {
    "none": "no action", "reminded": "check payment arrives", "notice": "call",
    "warning": "call and visit", "hold": "visit; supply on hold",
    "lawyer_letter": "escalate: legal", "handoff": "hand off: agency or litigation",
}


def v1_priority(account: AccountView, as_of: date) -> Priority:
    """The overdue amount (log scale), days past due, risk grade, a promise due that
    day and a ladder task, added up; with the reasons and the action for the stage."""
    overdue = account.undisputed_overdue(as_of)
    demandable = account.demandable()
    days = max((i.days_overdue(as_of) for i in demandable), default=0)
    reasons: list[str] = []
    score = 0
    if overdue > 0:
        score += int(10 * (overdue + 1).log10())
        reasons.append(f"{overdue} {account.currency} overdue")
        score += min(days, 365) // 5
        reasons.append(f"past due since {min(i.due_on for i in demandable)}")
    score += _V1_GRADE_POINTS.get(account.risk_grade, 0)
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
    action = _V1_ACTIONS.get(account.stage, "call")
    if due_today:
        action = "confirm promised payment"
    return Priority(None, score, tuple(reasons), action)


def based_on(view: AccountView, as_of: date) -> dict[str, Any]:
    """What a priority was decided from, as recorded beside it."""
    return {"undisputed_overdue": view.undisputed_overdue(as_of), "stage": view.stage,
            "risk_grade": view.risk_grade}


def jsonable(value: Any) -> Any:
    """A plugin's ``based_on`` as plain JSON values, as a decision records it."""
    # Plugins may give tuples, sets, dataclasses or floats in ``based_on``; what is
    # recorded must be plain JSON values (and never a float, which money must not be).
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "__dataclass_fields__"):
        return {k: jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, bool) or value is None or isinstance(value, (str, int, Decimal,
                                                                       date, datetime)):
        return value
    if isinstance(value, float):
        return repr(value)
    return str(value)


