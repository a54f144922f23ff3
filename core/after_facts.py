"""An account decided again when facts arrive, as Kill Bill's overdue engine does.

The ledger calls :func:`decide_after_facts` (through the bootstrap) before it saves a
command's facts, and what the plugins decide is recorded beside the facts, in the same
save. The plugins decide, as in the cycle, and each decision is an event with the
plugin, its version and what it was based on (``prompted_by``: the facts that asked).

- **Classes** (always, from the first fact): each invoice the facts changed gets its
  schedule decided again (``huikuan_class_schedule``), holding from the day of the
  earliest of those facts (a new invoice's from its issue date); ``ClassScheduled``
  when it changed. The views read the class for any date off it.
- **Risk and the ladder** (once a cycle has run): risk is weighed again
  (``RiskChanged``), and the escalation plugin is asked where the account stands. A
  stage that falls back (paid up: ``none``) and a supply hold released or held are
  recorded at once: a payment that settles what caused a hold releases it in its own
  request. A stage that would *rise* is left to the cycle, with its demands: a fact
  never queues a message, so nothing the nightly cycle sends is sent twice or early.
- **The views' decisions** (once a cycle has run): the limitation deadlines the facts
  may have moved and the place in the worklist, for the last cycle's date (see
  ``core.decisions``).

Which date: the ladder and risk are decided for the last cycle's date, or for the
latest business date of the facts if later (never later than today). The cycle has
already decided for that date from everything but these facts, so what changes is what
the facts change, never what time alone would (a step's day coming, a class reached):
that stays the cycle's. A payment dated after the last cycle releases a hold on its own
date, so the history as of an earlier day does not show it released before it was paid.

A plugin that fails here is logged, and the facts are recorded without its decision:
a fact is never refused for a decision the cycle will make anyway. Each decision stands
alone: a risk plugin down does not stop the ladder from following a payment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import structlog

from huikuan.core import classes
from huikuan.core.account import CLASSES, STAGES, Account
from huikuan.core.account.events import Decision, Fact
from huikuan.core.decisions import jsonable
from huikuan.core.plugin import AccountView, ClassSchedule, EscalationDecision
from huikuan.core.policy import PluginFailure, PolicyHost, view_of

if TYPE_CHECKING:
    from huikuan.core.cycle import DailyCycle

log = structlog.get_logger("huikuan.after_facts")


def decide_after_facts(cycle: DailyCycle, account: Account, last_cycle: date | None,
                       today: date | None = None) -> None:
    """Decide again what the account's pending facts may have changed (see the module)."""
    facts = [e for e in account.pending_events if isinstance(e, Fact)]
    changed = changed_invoices(account)
    filed = filed_on(account) if last_cycle is None else None
    if not changed and last_cycle is None and filed is None:
        return
    # One view of the account for all, taken again only after a decision that changes
    # what the next one sees (a schedule changes nothing a plugin is shown).
    view = view_of(account)
    _guarded(account, "classes", lambda: schedule_classes(cycle.host, account, changed,
                                                          view=view))
    if last_cycle is None:
        # Nothing was ever decided on the ladder or risk: the first cycle will. But a
        # suit or arbitration filed has the deadlines it restarts decided at once (for
        # the filing day), so the limitation views show the period it restarted.
        if filed is not None:
            cycle.decide_views_after_facts(account, filed, view, deadlines_only=True)
        return
    if facts:
        dates = [d for d in (e.occurred_on for e in facts) if d is not None]
        latest = max(dates, default=last_cycle)
        day = max(last_cycle, min(latest, today) if today is not None else latest)
        prompted_by = [f"{type(e).__name__} {getattr(e, e.ID_FIELD)}" for e in facts]
        version = account.version
        _guarded(account, "risk", lambda: cycle._risk(account, day, Counter(), view))
        if account.version != version:
            view, version = view_of(account), account.version
        _guarded(account, "escalation",
                 lambda: _escalation(cycle, account, view, day, prompted_by))
        if account.version != version:
            view = view_of(account)
    cycle.decide_views_after_facts(account, last_cycle, view)


def _guarded(account: Account, what: str, decide: Callable[[], Any]) -> None:
    try:
        decide()
    except Exception as error:  # the fact is recorded all the same; the cycle decides
        plugin = error.plugin.name if isinstance(error, PluginFailure) else None
        log.warning("after_facts.failed", customer_id=account.customer_id, decision=what,
                    plugin=plugin, error=repr(error))


def _escalation(cycle: DailyCycle, account: Account, view: AccountView, day: date,
                prompted_by: list[str]) -> None:
    """Where the facts put the account on the ladder: a fall or a hold held or released
    is recorded; a rise is the cycle's, with its messages."""
    found = cycle.host.first("huikuan_escalation", account=view, as_of=day)
    if not found:
        return
    decision: EscalationDecision = found[0]
    ref = found[1]
    if decision.stage not in STAGES:
        raise PluginFailure(ref, "huikuan_escalation",
                            ValueError(f"unknown stage {decision.stage!r}"))
    if STAGES.index(decision.stage) > STAGES.index(account.stage):
        return  # climbing the ladder, and what it sends, is the cycle's
    based_on = {**decision.based_on, "prompted_by": prompted_by}
    if decision.stage != account.stage:
        cycle._record(account, Account.StageEntered, ref, day, based_on,
                      stage=decision.stage, skipped=[])
    if decision.supply_hold is not None and decision.supply_hold != account.supply_hold:
        event_class = Account.SupplyHeld if decision.supply_hold else Account.SupplyReleased
        cycle._record(account, event_class, ref, day, based_on,
                      reason=f"stage {decision.stage}")


# ---- class schedules


def changed_invoices(account: Account) -> dict[str, date]:
    """The invoices the account's pending facts changed, each with the earliest business
    date among those facts: the day a schedule decided again holds from."""
    found: dict[str, date] = {}
    for event in account.pending_events:
        if isinstance(event, Decision) or not isinstance(event, Account.Event):
            continue  # decisions, and the registration (no invoice yet)
        if isinstance(event, Account.PaymentBounced):
            # Asked after the bounce the payment settles nothing: what it settled is
            # in the event.
            ids: Any = [a["invoice_id"] for a in event.reversed_allocations]
        else:
            ids = event.invoices_changed(account)
        on = event.occurred_on
        if on is None:
            continue
        for invoice_id in account.invoices if ids is None else ids:
            if invoice_id not in found or on < found[invoice_id]:
                found[invoice_id] = on
    return found


def schedule_classes(host: PolicyHost, account: Account, holds_from: Mapping[str, date],
                     counts: Counter[str] | None = None,
                     view: AccountView | None = None) -> bool:
    """Ask the plugins for the schedules of these invoices and record each that changed
    (``ClassScheduled``), holding from the day given (never before the invoice's issue).
    An invoice that had none (recorded before schedules) starts one then. True if any
    was recorded. ``view``: the account's, if the caller has it."""
    if not holds_from:
        return False
    view = view or view_of(account)
    invoices = {i.invoice_id: i for i in view.invoices}
    recorded_any = False
    for invoice_id, day in sorted(holds_from.items()):
        invoice = invoices.get(invoice_id)
        if invoice is None:
            continue
        found = host.first("huikuan_class_schedule", invoice=invoice, account=view)
        if found is None:
            continue
        schedule: ClassSchedule = found[0]
        ref = found[1]
        decided = _checked(schedule, ref)
        start = max(day, invoice.issued_on)
        recorded = classes.steps_of(account.invoices[invoice_id].class_steps)
        steps = classes.merged(recorded, decided, start)
        if steps == recorded:
            continue
        account.record_decision(
            Account.ClassScheduled, decided_on=start, plugin=ref.name,
            plugin_version=ref.version,
            based_on={**jsonable(dict(schedule.based_on)), "holds_from": start.isoformat()},
            invoice_id=invoice_id,
            steps=[{"from_on": on, "class": cls} for on, cls in steps])
        recorded_any = True
        if counts is not None:
            counts["class_scheduled"] += 1
    return recorded_any


def _checked(schedule: ClassSchedule, ref: Any) -> classes.Steps:
    steps = tuple((s.from_on, s.receivable_class) for s in schedule.steps)
    for n, (on, cls) in enumerate(steps):
        if cls not in CLASSES:
            raise PluginFailure(ref, "huikuan_class_schedule",
                                ValueError(f"unknown class {cls!r}"))
        if n and on <= steps[n - 1][0]:
            raise PluginFailure(ref, "huikuan_class_schedule",
                                ValueError("the steps are not in date order"))
    return steps


def filed_on(account: Account) -> date | None:
    """The day of a suit or arbitration filed among the account's pending events, if any.

    Before any cycle has run the views read deadlines as version 1 did, which knew no
    filings: a filing has its deadlines decided at once all the same (for that day),
    so the limitation views show the period it restarted."""
    days = [event.occurred_on for event in account.pending_events
            if isinstance(event, (Account.HandedOff, Account.HandoffUpdated))
            and event.filing]
    return max((d for d in days if d is not None), default=None)
