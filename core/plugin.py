"""The public module for plugin authors: import everything you need from here.

    from huikuan.core.plugin import hookimpl, AccountView, EscalationDecision, MessageRequest

It holds the ``hookimpl`` marker, the value types hooks receive and return, and the
vocabularies (``Stage``, ``ReceivableClass``, ``Grade``, ``MessageKind``…: ``Literal``
types, with their values in order as ``STAGES``, ``CLASSES``, ``GRADES``…). All the
values are frozen: a plugin decides by *returning* a value, never by changing what it
was given; huikuan records the decision as an event naming the plugin and its version.
The hooks themselves are documented in :mod:`huikuan.core.hookspecs`; builders of the
values, for testing a plugin without a database, are in :mod:`huikuan.core.testing`.

What is here is stable: fields are only ever added, with defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

import pluggy

from huikuan.core.postal import address_lines
from huikuan.core.vocabulary import (
    CASE_STATUSES,
    CLASSES,
    CONTACT_CHANNELS,
    COST_KINDS,
    DEMANDS,
    DOCUMENTS,
    GRADES,
    GUARANTEE_KINDS,
    HANDOFF_TO,
    MESSAGE_CHANNELS,
    MESSAGE_KINDS,
    STAGES,
    TASKS,
    CaseStatus,
    Commitment,
    ContactChannel,
    ContactOutcome,
    CostKind,
    Demand,
    Direction,
    Document,
    Grade,
    GuaranteeKind,
    HandoffTo,
    Language,
    MessageChannel,
    MessageKind,
    MessageStatus,
    PlanStatus,
    PromiseStatus,
    ReceivableClass,
    Stage,
    Task,
)

PROJECT = "huikuan"
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Mark a function or method as a hook implementation: ``@hookimpl``."""

# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """plugins.toml as read at start, and the environment the plugins may use.

    ``section(name)`` is a plugin's own table (``[escalation]`` → ``section("escalation")``);
    prefix your keys with your plugin's name if you share a table.
    """

    sections: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.sections.get(name, {})
        return value if isinstance(value, Mapping) else {}


# --------------------------------------------------------------------------- what plugins see


SettleOrder = Literal["principal_first", "costs_interest_principal"]
SETTLE_ORDERS: tuple[SettleOrder, ...] = ("principal_first", "costs_interest_principal")


@dataclass(frozen=True)
class RatePeriod:
    """An annual interest rate in force from ``from_on`` (inclusive) until the next starts.

    .. versionadded:: 0.3
    """

    from_on: date
    annual: Decimal


@dataclass(frozen=True)
class ContestedSpan:
    """An amount in dispute (争议) from ``raised_on`` until ``resolved_on`` (exclusive;
    still open when None).

    .. versionadded:: 0.3
    """

    amount: Decimal
    raised_on: date
    resolved_on: date | None = None


@dataclass(frozen=True)
class InvoiceView:
    """An invoice as it stands: ``open_amount`` less ``disputed_amount`` is what may be demanded."""

    invoice_id: str
    amount: Decimal
    open_amount: Decimal
    disputed_amount: Decimal
    issued_on: date
    due_on: date
    receivable_class: ReceivableClass
    interest: Decimal
    interest_accrued_to: date | None
    written_off: Decimal
    delivered_on: date | None
    acknowledged_on: date | None
    movements: tuple[tuple[date, Decimal], ...] = ()
    """(business date, change of the open amount), the first the amount on its issue date:
    the open amount on any day (for interest day by day). Empty: ``open_amount`` throughout.

    .. versionadded:: 0.3"""
    contested: tuple[ContestedSpan, ...] = ()
    """The disputes on this invoice with their dates. Empty: ``disputed_amount`` throughout.

    .. versionadded:: 0.3"""
    write_offs: tuple[tuple[date, Decimal], ...] = ()
    """(business date, amount) of each write-off (核销) of this invoice, in the order
    recorded; ``written_off`` is their sum.

    .. versionadded:: 0.3"""
    recovered: Decimal = Decimal(0)
    """Money received on the written-off part after it was written off (a recovery).

    .. versionadded:: 0.3"""

    @property
    def written_off_in_full(self) -> date | None:
        """The day a write-off settled the invoice: nothing is open, and nothing was open
        after its last write-off (one paid after a write-off in part was settled by the
        payment). None while money is open or when a payment settled it."""
        if self.open_amount > 0 or not self.write_offs:
            return None
        last = max(on for on, _ in self.write_offs)
        if self.movements and sum((v for on, v in self.movements if on <= last),
                                  Decimal(0)) > 0:
            return None
        return last

    @property
    def undisputed_open(self) -> Decimal:
        return self.open_amount - self.disputed_amount

    def days_overdue(self, as_of: date) -> int:
        return max(0, (as_of - self.due_on).days)


@dataclass(frozen=True)
class PaymentView:
    payment_id: str
    amount: Decimal
    received_on: date
    allocations: Mapping[str, Decimal]
    unapplied: Decimal
    bounced_on: date | None


@dataclass(frozen=True)
class PromiseView:
    promise_id: str
    amount: Decimal
    due_on: date
    made_on: date
    written: bool
    status: PromiseStatus
    concerns: tuple[str, ...] = ()
    """What the promise review found wrong with it when it was made (e.g. a date beyond
    the policy's maximum grace); empty for most promises.

    .. versionadded:: 0.3
    """


@dataclass(frozen=True)
class InstallmentView:
    number: int
    """1 for the first instalment."""
    due_on: date
    amount: Decimal


@dataclass(frozen=True)
class PlanView:
    plan_id: str
    agreed_on: date
    installments: tuple[InstallmentView, ...]
    status: PlanStatus
    missed: tuple[int, ...]


@dataclass(frozen=True)
class ContactView:
    occurred_at: datetime
    occurred_on: date
    channel: ContactChannel
    direction: Direction
    outcome: ContactOutcome


@dataclass(frozen=True)
class ReportedSignal:
    signal: str
    observed_on: date
    note: str | None


@dataclass(frozen=True)
class MessageView:
    message_id: str
    kind: MessageKind
    channel: MessageChannel
    status: MessageStatus
    queued_on: date
    attempts: int
    sent_at: datetime | None = None
    invoice_ids: tuple[str, ...] = ()
    """The invoices the message is about.

    .. versionadded:: 0.2
    """
    delivered_on: date | None = None
    """The day the message reached the debtor, as proof of delivery recorded says (a
    courier's tracking, a signed receipt); None: no proof recorded. A demand that
    reached the debtor restarts the limitation period of its invoices (art. 195).

    .. versionadded:: 0.3
    """


@dataclass(frozen=True)
class FilingView:
    """A suit or an arbitration filed against the debtor (起诉/申请仲裁): it restarts the
    limitation period (诉讼时效中断, Civil Code art. 195) from ``filed_on``.

    .. versionadded:: 0.3
    """

    kind: Literal["litigation", "arbitration"]
    filed_on: date
    invoice_ids: tuple[str, ...] = ()
    """The invoices the claim is for; empty: the whole account."""

    def covers(self, invoice_id: str) -> bool:
        return not self.invoice_ids or invoice_id in self.invoice_ids


@dataclass(frozen=True)
class PauseView:
    """A dunning stop (暂缓催收): no demand and no step of the ladder for its invoices (all
    of the account's, new ones too, when ``invoice_ids`` is empty) from ``from_on``
    through ``until_on``, or through the day before ``ended_on`` when it was ended early.

    .. versionadded:: 0.3
    """

    pause_id: str
    reason: str
    from_on: date
    until_on: date | None = None
    """The last day it holds (inclusive); None: until it is ended."""
    invoice_ids: tuple[str, ...] = ()
    """The invoices it stops; empty: the whole account."""
    ended_on: date | None = None
    """Ended early: from this day on it holds no more."""

    @property
    def last_day(self) -> date | None:
        """The last day the stop holds (before ``from_on`` if it was ended before it
        began); None while no end is set."""
        ends = [d for d in (self.until_on,
                            self.ended_on - timedelta(days=1) if self.ended_on else None)
                if d is not None]
        return min(ends) if ends else None

    def holds_on(self, day: date) -> bool:
        last = self.last_day
        return self.from_on <= day and (last is None or day <= last)

    def covers(self, invoice_id: str) -> bool:
        return not self.invoice_ids or invoice_id in self.invoice_ids


@dataclass(frozen=True)
class CaseView:
    """A hand-off (移交) as a case: the claim on ``invoice_ids`` given to an agency, a
    lawyer, a court, an arbitration or the company's own legal department. From
    ``handed_on`` the party pursues those invoices and the ladder leaves them alone;
    only a case ``returned`` (on ``returned_on``) gives them back to it. A case settled
    or closed keeps them: what is still owed then is for a write-off or another hand-off.

    .. versionadded:: 0.3
    """

    handoff_id: str
    to: HandoffTo
    handed_on: date
    invoice_ids: tuple[str, ...]
    """The invoices handed off (without a list, every invoice open on ``handed_on``)."""
    status: CaseStatus = "handed_off"
    party: str | None = None
    reference: str | None = None
    case_number: str | None = None
    filed_on: date | None = None
    """The day the suit or arbitration was filed (起诉/申请仲裁), if it was."""
    recovered: Decimal = Decimal(0)
    """What the party reports recovered, added up over the updates (information: the
    money itself comes in as payments)."""
    returned_on: date | None = None

    def holds_on(self, day: date) -> bool:
        """Whether the party has the invoices on ``day``."""
        return self.handed_on <= day and (self.returned_on is None or day < self.returned_on)

    def covers(self, invoice_id: str) -> bool:
        return invoice_id in self.invoice_ids


@dataclass(frozen=True)
class AccountView:
    """A customer's account as plugins see it: read-only, taken just before the decision."""

    customer_id: str
    name: str
    currency: str
    payment_terms_days: int
    credit_limit: Decimal | None
    credit_grade: Grade | None
    timezone: str
    collector: str | None
    tags: tuple[str, ...]
    language: Language
    contacts: tuple[Mapping[str, Any], ...]
    stage: Stage
    stage_entered_on: date | None
    supply_hold: bool
    risk_score: int
    risk_grade: Grade
    risk_signals: tuple[str, ...]
    invoices: tuple[InvoiceView, ...]
    payments: tuple[PaymentView, ...]
    promises: tuple[PromiseView, ...]
    plans: tuple[PlanView, ...]
    contact_log: tuple[ContactView, ...]
    reported_signals: tuple[ReportedSignal, ...]
    acknowledgments: tuple[Mapping[str, Any], ...]
    messages: tuple[MessageView, ...]
    filings: tuple[FilingView, ...] = ()
    """Suits and arbitrations filed, oldest first.

    .. versionadded:: 0.3
    """
    address: Mapping[str, Any] | None = None
    """The postal address letters go to (``line1``, ``line2``, ``city``, ``province``,
    ``postal_code``, ``country``; only ``line1`` is sure to be there), or None;
    :func:`address_lines` prints it.

    .. versionadded:: 0.3
    """
    pauses: tuple[PauseView, ...] = ()
    """Dunning stops (暂缓催收), in the order recorded, ended and past ones too.

    .. versionadded:: 0.3
    """
    cases: tuple[CaseView, ...] = ()
    """Hand-offs (移交) as cases, in the order recorded, returned ones too.

    .. versionadded:: 0.3
    """
    statements_issued: tuple[date, ...] = ()
    """The ``as_of`` dates of the statements of account issued, in the order recorded.

    .. versionadded:: 0.4
    """

    @property
    def outstanding(self) -> Decimal:
        return sum((i.open_amount for i in self.invoices), Decimal(0))

    def payments_settling(self, invoice_id: str) -> tuple[PaymentView, ...]:
        """The payments, not bounced, that settled part of an invoice."""
        return self._settling.get(invoice_id, ())

    @cached_property
    def _settling(self) -> dict[str, tuple[PaymentView, ...]]:
        # Built once per view: a rule asking for every invoice of a large account must
        # not walk all its payments each time.
        index: dict[str, list[PaymentView]] = {}
        for payment in self.payments:
            if payment.bounced_on is None:
                for invoice_id in payment.allocations:
                    index.setdefault(invoice_id, []).append(payment)
        return {k: tuple(v) for k, v in index.items()}

    def open_invoices(self) -> list[InvoiceView]:
        """Invoices with money open, oldest due first."""
        return sorted(
            (i for i in self.invoices if i.open_amount > 0),
            key=lambda i: (i.due_on, i.issued_on, i.invoice_id),
        )

    def demandable(self) -> list[InvoiceView]:
        """Invoices with undisputed money open, oldest due first: what may be chased."""
        return [i for i in self.open_invoices() if i.undisputed_open > 0]

    def undisputed_overdue(self, as_of: date) -> Decimal:
        return sum(
            (i.undisputed_open for i in self.demandable() if i.due_on < as_of), Decimal(0)
        )

    def pause_of(self, invoice_id: str, day: date) -> PauseView | None:
        """The dunning stop holding ``invoice_id`` on ``day``, if one does.

        .. versionadded:: 0.3"""
        return next((p for p in self.pauses if p.holds_on(day) and p.covers(invoice_id)),
                    None)

    def case_of(self, invoice_id: str, day: date) -> CaseView | None:
        """The case that has ``invoice_id`` on ``day``, if it is handed off.

        .. versionadded:: 0.3"""
        return next((c for c in self.cases if c.holds_on(day) and c.covers(invoice_id)),
                    None)

    def chaseable(self, day: date) -> list[InvoiceView]:
        """What huikuan itself may chase on ``day``: the demandable invoices (oldest due
        first) neither under a dunning stop that day nor handed off to a party.

        .. versionadded:: 0.3"""
        demandable = self.demandable()
        if not self.pauses and not self.cases:
            return demandable
        return [i for i in demandable if self.pause_of(i.invoice_id, day) is None
                and self.case_of(i.invoice_id, day) is None]


# --------------------------------------------------------------------------- what plugins return


@dataclass(frozen=True)
class MessageRequest:
    """Something to send or a task for a person, asked for by an escalation step.

    ``kind``: a demand to the customer (``reminder``, ``notice``, ``warning``,
    ``lawyer_letter``) or a task for people (``call_task``, ``visit_task``,
    ``manager_review``, ``handoff_review``). ``channel``: ``email``, ``sms``, ``letter``
    or ``worklist`` (tasks).
    """

    kind: MessageKind
    channel: MessageChannel
    invoice_ids: tuple[str, ...] = ()
    """The invoices the message is about; it demands their undisputed open amount."""
    deadline_days: int | None = None
    """Days the customer is given to pay, stated in the message (None: no deadline)."""


@dataclass(frozen=True)
class ClassStep:
    """From ``from_on`` (inclusive) an invoice is in ``receivable_class``, until the next
    step of its schedule.

    .. versionadded:: 0.3
    """

    from_on: date
    receivable_class: ReceivableClass


@dataclass(frozen=True)
class ClassSchedule:
    """The classes an invoice passes through (货款分类), each from the date it enters it:
    the class on any date is that of the last step on or before it, ``not_due`` before
    the first. Steps are in date order. The schedule speaks of the time money is open on
    the invoice: once nothing is open the invoice keeps the class it had the day it was
    settled, so a payment changes no schedule; a write-off that settles it may (the
    default plugin makes it ``dead`` from that day).

    .. versionadded:: 0.3
    """

    steps: tuple[ClassStep, ...]
    based_on: Mapping[str, Any] = field(default_factory=dict)

    def class_on(self, day: date) -> ReceivableClass:
        found: ReceivableClass = "not_due"
        for step in self.steps:
            if step.from_on > day:
                break
            found = step.receivable_class
        return found


@dataclass(frozen=True)
class EscalationDecision:
    """Where an account should stand on the escalation ladder, and what to do.

    If ``stage`` equals the account's current stage nothing is recorded. ``skipped``
    names the steps passed over after a gap (recorded, not acted on). ``messages`` are
    queued only when the stage rises. ``supply_hold`` True holds supply, False releases
    it, None leaves it as it is.
    """

    stage: Stage
    skipped: tuple[Stage, ...] = ()
    messages: tuple[MessageRequest, ...] = ()
    supply_hold: bool | None = None
    based_on: Mapping[str, Any] = field(default_factory=dict)
    fee: Decimal | None = None
    """A fee (催收费) charged on the account as it enters ``stage`` (only when rising),
    recorded as ``FeeCharged``. None: no fee."""


@dataclass(frozen=True)
class CommitmentOutcome:
    """A promise found kept or broken, or an instalment found missed."""

    kind: Commitment
    ref: str
    """The promise id or plan id."""
    installment: int | None = None
    based_on: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Signal:
    """A danger sign found in an account's history (``broken_promise``, ``paying_later``…)."""

    code: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RiskAssessment:
    score: int
    """0 (no concern) to 100."""
    grade: Grade
    """``A`` (best) to ``E``."""
    signals: tuple[str, ...] = ()
    based_on: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InterestCharge:
    """Late interest on one invoice for the days ``from_on`` (exclusive) to ``to_on``."""

    amount: Decimal
    from_on: date
    to_on: date
    annual_rate: Decimal
    based_on: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InterestTerms:
    """The late-interest terms an account is held to: annual rates by the date each
    comes into force, earliest first (no interest before the first, none at all when
    empty). Recorded on the account (``InterestTermsSet``), so the views accrue interest
    through any day from the recorded rates without asking a plugin.

    .. versionadded:: 0.4
    """

    rates: tuple[RatePeriod, ...]
    settle: SettleOrder = "principal_first"
    """What a payment settles first when it names no invoices: ``principal_first`` (v1:
    the oldest principal due) or ``costs_interest_principal`` (Civil Code art. 561: the
    fees, then the interest, then the principal)."""


@dataclass(frozen=True)
class MessageDraft:
    """What the renderer is asked to write: every figure is already decided.

    ``amount`` is the undisputed principal demanded; ``interest`` (accrued, unpaid, on
    the demanded invoices, through ``as_of``) and ``fees`` (charged, not waived) are
    stated beside it, never added to it. ``invoice_interest`` gives each invoice's.
    """

    message_id: str
    kind: MessageKind
    channel: MessageChannel
    language: Language
    amount: Decimal
    currency: str
    invoices: tuple[InvoiceView, ...]
    deadline: date | None
    as_of: date
    interest: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    invoice_interest: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


@dataclass(frozen=True)
class OutgoingMessage:
    """A queued message handed to a channel. ``message_id`` is stable across retries."""

    message_id: str
    customer_id: str
    kind: MessageKind
    channel: MessageChannel
    recipient: str | None
    subject: str
    body: str
    attempt: int
    document: bytes | None = None
    """The printed letter (PDF) of a written demand, for the channels that carry one: the
    letter channel writes it, e-mail attaches it. None for other messages.

    .. versionadded:: 0.4
    """


@dataclass(frozen=True)
class DeliveryReceipt:
    """A channel accepted the message; ``reference`` is its id for it, if any."""

    reference: str | None = None


class DeliveryError(Exception):
    """A channel could not deliver. ``temporary`` errors are retried with backoff."""

    def __init__(self, message: str, *, temporary: bool = True) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True)
class ContactVerdict:
    """May this message go now? ``allowed`` False holds it until ``hold_until``."""

    allowed: bool
    hold_until: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class WorkPriority:
    """An account's place in its collector's queue (轻重缓急): higher is more urgent."""

    score: int
    reasons: tuple[str, ...] = ()
    suggested_action: str = ""


@dataclass(frozen=True)
class ObsoleteVerdict:
    """Should a queued message still go out? ``obsolete`` True cancels it, with ``reason``.

    .. versionadded:: 0.2
    """

    obsolete: bool
    reason: str = ""


@dataclass(frozen=True)
class CreditPosition:
    """A customer's credit as the views show it, for deciding whether to ship more.

    .. versionadded:: 0.2
    """

    customer_id: str
    currency: str
    exposure: Decimal
    """What the customer owes on open invoices, less payments not yet applied."""
    credit_limit: Decimal | None
    """None: no limit was set."""
    supply_hold: bool
    risk_grade: Grade
    credit_grade: Grade | None = None


@dataclass(frozen=True)
class CreditDecision:
    """May we ship more on credit (前款不结，后货不送)? ``reasons`` say why not.

    .. versionadded:: 0.2
    """

    allowed: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromiseVerdict:
    """What the policy makes of a promise to pay as it is recorded: ``accepted`` False
    refuses it (nothing is recorded, the caller is told ``reasons``); accepted with
    ``concerns`` records it flagged, the concerns shown to the collector.

    .. versionadded:: 0.3
    """

    accepted: bool
    reasons: tuple[str, ...] = ()
    concerns: tuple[str, ...] = ()


__all__ = [
    "CASE_STATUSES", "CLASSES", "CONTACT_CHANNELS", "COST_KINDS", "DEMANDS", "DOCUMENTS", "GRADES",
    "GUARANTEE_KINDS", "HANDOFF_TO", "MESSAGE_CHANNELS",
    "MESSAGE_KINDS", "SETTLE_ORDERS", "STAGES", "TASKS", "AccountView", "CaseStatus", "CaseView",
    "ClassSchedule", "ClassStep", "Commitment",
    "CommitmentOutcome", "ContactChannel",
    "ContactOutcome", "ContactVerdict", "ContactView", "ContestedSpan", "CostKind",
    "CreditDecision", "CreditPosition",
    "DeliveryError", "DeliveryReceipt", "Demand", "Direction", "Document", "EscalationDecision",
    "FilingView", "Grade", "GuaranteeKind", "HandoffTo",
    "InstallmentView", "InterestCharge", "InterestTerms", "InvoiceView", "Language",
    "MessageChannel",
    "MessageDraft", "MessageKind", "MessageRequest", "MessageStatus", "MessageView",
    "ObsoleteVerdict", "OutgoingMessage", "PauseView",
    "PaymentView", "PlanStatus", "PlanView",
    "PromiseStatus", "PromiseVerdict", "PromiseView", "RatePeriod", "ReceivableClass",
    "RenderedMessage", "ReportedSignal",
    "RiskAssessment", "Settings", "SettleOrder", "Signal", "Stage", "Task", "WorkPriority",
    "address_lines",
    "hookimpl",
]
