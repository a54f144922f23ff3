"""Policy decisions: the daily cycle's Decision events and how they are recorded.

Their shape is settled here; the cycle and its plugins (core.cycle, plugins/) decide
when to record them. Each names the plugin, its version and its inputs.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from huikuan.core.account.events import Decision
from huikuan.core.account.state import AccountState


class Decisions(AccountState):
    """What the daily cycle decided: stages, holds, classes, interest, risk, reviews."""

    class PromiseKept(Decision):
        TOPIC = "huikuan:Account.PromiseKept"
        CHANGES_INVOICES = False
        promise_id: str

        def apply(self, account: AccountState) -> None:
            account.promises[self.promise_id].status = "kept"

    class PromiseBroken(Decision):
        TOPIC = "huikuan:Account.PromiseBroken"
        CHANGES_INVOICES = False
        promise_id: str

        def apply(self, account: AccountState) -> None:
            account.promises[self.promise_id].status = "broken"

    class PromiseFlagged(Decision):
        """The promise review found something wrong with a promise as it was made (a
        date beyond the policy's maximum grace, say): recorded beside it, shown to the
        collector. ``decided_on`` is the promise's ``made_on``."""

        TOPIC = "huikuan:Account.PromiseFlagged"
        CHANGES_INVOICES = False
        promise_id: str
        concerns: list[str]

        def apply(self, account: AccountState) -> None:
            account.promises[self.promise_id].concerns = list(self.concerns)

    class InstallmentMissed(Decision):
        TOPIC = "huikuan:Account.InstallmentMissed"
        CHANGES_INVOICES = False
        plan_id: str
        installment: int

        def apply(self, account: AccountState) -> None:
            plan = account.plans[self.plan_id]
            plan.missed.append(self.installment)
            plan.status = "broken"

    class StageEntered(Decision):
        """The account rose (or fell back) to an escalation stage; ``skipped`` lists
        the steps passed over after a gap, recorded but not acted on."""

        TOPIC = "huikuan:Account.StageEntered"
        CHANGES_INVOICES = False
        stage: str
        skipped: list[str]

        def apply(self, account: AccountState) -> None:
            account.stage = self.stage
            account.stage_entered_on = self.decided_on

    class SupplyHeld(Decision):
        """No new goods until the old debt is paid (前款不结，后货不送)."""

        TOPIC = "huikuan:Account.SupplyHeld"
        CHANGES_INVOICES = False
        reason: str

        def apply(self, account: AccountState) -> None:
            account.supply_hold = True

    class SupplyReleased(Decision):
        TOPIC = "huikuan:Account.SupplyReleased"
        CHANGES_INVOICES = False
        reason: str

        def apply(self, account: AccountState) -> None:
            account.supply_hold = False

    class InterestCharged(Decision):
        """Late interest (罚息) accrued on an invoice for a span of days."""

        TOPIC = "huikuan:Account.InterestCharged"
        INVOICE_FIELD = "invoice_id"
        invoice_id: str
        amount: Decimal
        from_on: date
        to_on: date
        annual_rate: Decimal

        def apply(self, account: AccountState) -> None:
            invoice = account.invoices[self.invoice_id]
            invoice.interest += self.amount
            invoice.interest_accrued_to = self.to_on

    class ClassChanged(Decision):
        """A receivable moved between classes (未收款/催收款/准呆款/呆款/死款)."""

        TOPIC = "huikuan:Account.ClassChanged"
        INVOICE_FIELD = "invoice_id"
        invoice_id: str
        previous: str
        new: str

        def apply(self, account: AccountState) -> None:
            account.invoices[self.invoice_id].class_ = self.new

    class ClassScheduled(Decision):
        """The classes an invoice passes through (货款分类) and the day it enters each,
        as the classes plugin decided when the invoice was recorded or its facts changed
        (``huikuan_class_schedule``). ``steps`` is the whole schedule, [{from_on,
        class}] in date order; ``decided_on`` is the day from which this decision holds
        (the invoice's issue date for its first; the steps before it are those recorded
        before, kept). The views read the class for any date off it (core.classes)."""

        TOPIC = "huikuan:Account.ClassScheduled"
        INVOICE_FIELD = "invoice_id"
        invoice_id: str
        steps: list[dict[str, Any]]

        def apply(self, account: AccountState) -> None:
            account.invoices[self.invoice_id].class_steps = [
                [step["from_on"], step["class"]] for step in self.steps]

    class RiskChanged(Decision):
        TOPIC = "huikuan:Account.RiskChanged"
        CHANGES_INVOICES = False
        score: int
        grade: str
        signals: list[str]

        def apply(self, account: AccountState) -> None:
            account.risk = {"score": self.score, "grade": self.grade,
                            "signals": list(self.signals)}

    class ReviewScheduled(Decision):
        """The cycle has decided for the account and need not look again before
        ``next_review`` (None: not until a fact arrives), the earliest date any plugin
        named; ``based_on`` holds each plugin's date."""

        TOPIC = "huikuan:Account.ReviewScheduled"
        CHANGES_INVOICES = False
        next_review: date | None

        def apply(self, account: AccountState) -> None:
            account.review_needed = False
            account.next_review = self.next_review
            account.reviewed_on = self.decided_on

    # What the read views need from policy (core.decisions explains why and how old
    # records without them are read). The state lives on the account as plain values,
    # read with a default: accounts restored from older snapshots do not have it.

    class DeadlinesDecided(Decision):
        """The limitation deadlines (诉讼时效) of these invoices, as a plugin decided them."""

        TOPIC = "huikuan:Account.DeadlinesDecided"
        deadlines: dict[str, date | None]

        def invoices_changed(self, account: AccountState) -> Collection[str] | None:
            return list(self.deadlines)

        def apply(self, account: AccountState) -> None:
            account.limitation_deadlines = {**account.limitation_deadlines, **self.deadlines}

    class PriorityDecided(Decision):
        """The account's place in its collector's queue (轻重缓急) on ``decided_on``."""

        TOPIC = "huikuan:Account.PriorityDecided"
        CHANGES_INVOICES = False
        priority: int | None
        reasons: list[str]
        suggested_action: str

        def apply(self, account: AccountState) -> None:
            account.worklist_priority = {
                "decided_on": self.decided_on, "priority": self.priority,
                "reasons": list(self.reasons), "suggested_action": self.suggested_action}

    def record_decision(self, event_class: type[Decision], **fields: Any) -> None:
        """Record a decision the cycle made; the cycle has checked it against the state."""
        self.trigger_event(event_class, **fields)
