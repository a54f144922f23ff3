"""A gentler ladder for key accounts: a courtesy call, a polite e-mail, a manager review.

Only the public plugin API is used: ``huikuan.core.plugin`` and the hooks in
``huikuan.core.hookspecs``; its tests use ``huikuan.core.testing`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from huikuan.core.plugin import AccountView, EscalationDecision, MessageRequest, Settings, hookimpl

__version__ = "1.0.0"


@hookimpl(tryfirst=True)
def huikuan_escalation(
    account: AccountView, as_of: date, settings: Settings
) -> EscalationDecision | None:
    config = settings.section("gentle")
    tags = set(config.get("tags", ["key-account"]))
    if not tags & set(account.tags):
        return None  # not a key account: the default ladder decides
    open_ = account.demandable()
    if not open_:
        return EscalationDecision(stage="none", supply_hold=False,
                                  based_on={"reason": "nothing undisputed is open"})
    oldest = open_[0]
    days = (as_of - oldest.due_on).days
    overdue = [i.invoice_id for i in open_ if i.due_on < as_of]
    steps = [
        (_first_step(config), "notice",
         (MessageRequest("call_task", "worklist", tuple(overdue)),)),
        (20, "warning", (MessageRequest("notice", "email", tuple(overdue), deadline_days=14),)),
        (45, "hold", (MessageRequest("manager_review", "worklist", tuple(overdue)),)),
    ]
    reached = [s for s in steps if days >= s[0]]
    stage, messages = (reached[-1][1], reached[-1][2]) if reached else ("none", ())
    return EscalationDecision(
        stage=stage, messages=messages, supply_hold=False,
        skipped=tuple(s[1] for s in reached[:-1]),
        based_on={"ladder": "gentle", "oldest_invoice": oldest.invoice_id, "days": days},
    )


def _first_step(config: Mapping[str, Any]) -> int:
    return int(config.get("courtesy_call_days", 3))


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    """When a key account reaches its next step: the cycle need not look before."""
    config = settings.section("gentle")
    if not set(config.get("tags", ["key-account"])) & set(account.tags):
        return None  # the default ladder's own huikuan_next_review answers
    open_ = account.demandable()
    if not open_:
        return None
    days = [open_[0].due_on + timedelta(days=d) for d in (_first_step(config), 20, 45)]
    return min((d for d in days if d > as_of), default=None)
