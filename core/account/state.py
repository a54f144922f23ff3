"""The account's state and what every concern of it shares: the checks, the queries.

``AccountState`` is the case file as the events leave it (``__init__`` is the empty
one), the idempotency of facts, the checks command methods share and the cheap queries
on the state. Each concern (receivables, payments…) is a class built on it, holding its
own events and commands; ``Account`` combines them (see core.account.aggregate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeAlias

from eventsourcing.domain import BaseAggregate, CanMutateAggregate

from huikuan.core.account import events
from huikuan.core.account.events import Fact
from huikuan.core.account.records import (
    ContactRecord,
    CreditNote,
    Dispute,
    Invoice,
    Message,
    Payment,
    PaymentPlan,
    Promise,
)
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.money import money, zero

if TYPE_CHECKING:
    # For the type checker the concerns are parts of an aggregate (they call
    # trigger_event, read id and version). At run time they are plain classes: the
    # library would make each its own aggregate, with event classes of its own.
    from huikuan.core.aggregate import ChainedAggregate as _Aggregate
else:
    _Aggregate = object


def same_request(recorded: dict[str, Any], request: dict[str, Any]) -> bool:
    """Is ``request`` what was recorded? Optional fields left out and fields given as
    null mean the same thing."""

    def present(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if v is not None}

    return present(recorded) == present(request)


class AccountState(_Aggregate):
    """The case file's state, shared checks and queries; the base of every concern."""

    # The base event classes, so Account.Event, Account.Fact and Account.Decision name them.
    Event: TypeAlias = events.Event
    Fact: TypeAlias = events.Fact
    Decision: TypeAlias = events.Decision

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The library registers the topic of each event class it finds in the aggregate
        # class's own namespace, and makes a new subclass of any it finds only on a base.
        # So before it looks at Account, every concern's events are put on Account as
        # they are: Account.InvoiceIssued is Receivables.InvoiceIssued, one class a topic.
        if issubclass(cls, BaseAggregate):
            for concern in cls.__mro__[1:]:
                if not issubclass(concern, AccountState):
                    continue
                for name, value in vars(concern).items():
                    if (isinstance(value, type) and issubclass(value, CanMutateAggregate)
                            and name not in vars(cls)):
                        setattr(cls, name, value)
        super().__init_subclass__(**kwargs)

    # A new fact may change any decision: the account is reviewed at the next cycle.
    # (Class attributes, so accounts restored from older snapshots have them too.)
    review_needed: bool = True
    next_review: date | None = None
    reviewed_on: date | None = None
    # What the views need from policy (core.decisions), replaced whole by each decision
    # (never changed in place, so the shared class defaults are never written to).
    limitation_deadlines: Mapping[str, date | None] = MappingProxyType({})
    worklist_priority: Mapping[str, Any] | None = None
    # Proof that a demand reached the debtor, by message id (delivery.DemandDelivered);
    # suits and arbitrations filed (by the hand-offs, core.account.cases); credit
    # refusals a manager overrode, by invoice id. Replaced whole, like the above.
    demand_deliveries: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    filings: Sequence[Mapping[str, Any]] = ()  # a list once one is filed (as snapshots keep it)
    credit_overrides: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    # Master data added after the first stores (core.account.master): the postal address
    # (None until given) and the payment terms by the date they apply from (empty while
    # the registration's terms stand). Replaced whole, like the above.
    address: Mapping[str, Any] | None = None
    terms_schedule: Sequence[Sequence[Any]] = ()
    """[[from, days], …] in date order (core.account.master.with_terms)."""
    # The case work (core.account.pauses, core.account.cases): dunning stops, hand-offs
    # and their progress, collection costs and guarantees, each by its id, in the order
    # recorded. Replaced whole, like the above.
    pauses: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    cases: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    costs: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    guarantees: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    # Interest terms, fees and waivers (core.account.charges): the recorded rates as
    # [[from (ISO date), annual rate (text)], …] (empty: none recorded), fees and
    # interest waivers by id. Replaced whole, like the above.
    interest_rates: Sequence[Sequence[str]] = ()
    settle_order: str = "principal_first"
    fees: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    interest_waivers: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    statements: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    """Statements of account issued, by id (core.account.statements)."""
    charge_settlements: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    """By payment id: {on, bounced_on, fees: {fee_id: amount}, interest: {invoice_id:
    amount}} (charges.ChargesSettled, art. 561's order)."""

    def __init__(self) -> None:
        # Empty case file; Registered.apply fills in the customer.
        self.customer_id = ""
        self.name = ""
        self.currency = ""
        self.payment_terms_days = 30
        self.credit_limit: Decimal | None = None
        self.credit_grade: str | None = None
        self.timezone = "Asia/Shanghai"
        self.collector: str | None = None
        self.contacts: list[dict[str, Any]] = []
        self.tax_id: str | None = None
        self.registered_on: date | None = None
        self.tags: list[str] = []
        self.language = "zh-CN"
        self.invoices: dict[str, Invoice] = {}
        self.payments: dict[str, Payment] = {}
        self.credit_notes: dict[str, CreditNote] = {}
        self.disputes: dict[str, Dispute] = {}
        self.promises: dict[str, Promise] = {}
        self.plans: dict[str, PaymentPlan] = {}
        self.contact_log: list[ContactRecord] = []
        self.acknowledgments: list[dict[str, Any]] = []
        self.risk_signals: list[dict[str, Any]] = []
        self.write_offs: dict[str, dict[str, Any]] = {}
        # Indexes kept by the event handlers, so commands on a long account need not scan
        # all of it: invoices with money open, and payments with credit left unapplied.
        self.open_ids: dict[str, bool] = {}
        self.credits: dict[str, Decimal] = {}
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.requests: dict[str, dict[str, Any]] = {}
        # What the daily cycle decided last.
        self.stage = "none"
        self.stage_entered_on: date | None = None
        self.supply_hold = False
        self.risk: dict[str, Any] = {"score": 0, "grade": "A", "signals": []}
        self.messages: dict[str, Message] = {}

    # ---- idempotency

    def _is_repeat(self, event_class: type[Fact], fields: dict[str, Any]) -> bool:
        """True if this fact was recorded before with the same content; Conflict if not."""
        fact_id = fields[event_class.ID_FIELD]
        recorded = self.requests.get(f"{event_class.KIND}:{fact_id}")
        if recorded is None:
            return False
        request = {f: fields.get(f) for f in event_class.REQUEST_FIELDS}
        if same_request(recorded, request):
            return True
        msg = f"{event_class.KIND} {fact_id!r} was recorded before with different content"
        raise Conflict(msg, field=event_class.ID_FIELD)

    def _record(self, event_class: type[Fact], **fields: Any) -> bool:
        self.trigger_event(event_class, **fields)
        return True

    # ---- helpers used by command methods

    def _money(self, amount: Decimal | int | str, *, field: str = "amount",
               allow_zero: bool = False) -> Decimal:
        return money(amount, self.currency, field=field, allow_zero=allow_zero)

    def _check_currency(self, currency: str) -> None:
        if currency != self.currency:
            msg = f"this account is kept in {self.currency}, not {currency}"
            raise InvalidCommand(msg, field="currency")

    def _invoice(self, invoice_id: str, *, field: str = "invoice_id") -> Invoice:
        try:
            return self.invoices[invoice_id]
        except KeyError:
            msg = f"no invoice {invoice_id!r} on this account"
            raise NotFound(msg, field=field) from None

    def _not_before_issue(self, invoice: Invoice, when: date, field: str) -> None:
        # A fact about an invoice cannot predate the invoice: history as of a date
        # relies on it (every fact it includes finds its invoice there too).
        if when < invoice.issued_on:
            msg = f"{field} {when} is before invoice {invoice.invoice_id!r} was issued"
            raise InvalidCommand(msg, field=field)

    # ---- queries on the state (cheap; no replay)

    def contested(self) -> dict[str, Decimal]:
        """What the open disputes contest, per invoice (not capped at what is open)."""
        amounts: dict[str, Decimal] = {}
        for dispute in self.disputes.values():
            if dispute.is_open:
                amounts[dispute.invoice_id] = (
                    amounts.get(dispute.invoice_id, zero(self.currency)) + dispute.amount)
        return amounts

    def disputed_amount(self, invoice: Invoice,
                        contested: dict[str, Decimal] | None = None) -> Decimal:
        """The contested part of an invoice, never more than what is still open.
        ``contested``, from :meth:`contested`, saves gathering it again per invoice."""
        if not self.disputes:  # the usual case, asked for every open invoice
            return zero(self.currency)
        raw = (self.contested() if contested is None else contested).get(
            invoice.invoice_id, zero(self.currency))
        return min(raw, invoice.open_amount)

    def undisputed_open(self, invoice: Invoice) -> Decimal:
        return invoice.open_amount - self.disputed_amount(invoice)

    @property
    def outstanding(self) -> Decimal:
        return sum((i.open_amount for i in self.invoices.values()), zero(self.currency))

    @property
    def disputed(self) -> Decimal:
        return sum(
            (self.disputed_amount(i) for i in self.invoices.values()), zero(self.currency)
        )

    @property
    def unapplied_credit(self) -> Decimal:
        return sum(self.credits.values(), zero(self.currency))

    def _track(self, invoice: Invoice) -> None:
        """Keep ``open_ids`` in step with an invoice whose open amount changed."""
        if invoice.open_amount > 0:
            self.open_ids[invoice.invoice_id] = True
        else:
            self.open_ids.pop(invoice.invoice_id, None)

    @property
    def balance(self) -> Decimal:
        """What the customer owes net of money received but not yet applied."""
        return self.outstanding - self.unapplied_credit

    def overdue(self, as_of: date) -> Decimal:
        return sum(
            (i.open_amount for i in self.invoices.values() if i.due_on < as_of),
            zero(self.currency),
        )

    @staticmethod
    def days_overdue(invoice: Invoice, as_of: date) -> int:
        return max(0, (as_of - invoice.due_on).days)

    def open_invoices(self) -> list[Invoice]:
        """Open invoices, oldest due first."""
        return sorted(
            (self.invoices[i] for i in self.open_ids),
            key=lambda i: (i.due_on, i.issued_on, i.invoice_id),
        )

    def terms_on(self, issued_on: date) -> int:
        """The payment terms of an invoice issued on ``issued_on`` (core.account.master
        keeps the schedule of changed terms)."""
        found = self.payment_terms_days
        for on, days in self.terms_schedule:
            if on <= issued_on:
                found = int(days)
        return found

    def due_for_review(self, as_of: date) -> bool:
        """Whether the daily cycle for ``as_of`` must look at this account."""
        return self.review_needed or (
            self.next_review is not None and self.next_review <= as_of)

    def queued_message(self, message_id: str) -> Message | None:
        """The message, or None in history as of a date before it was queued (its
        delivery may be dated earlier than its queuing in another time zone)."""
        return self.messages.get(message_id)

    # ---- across concerns

    def _apply_unapplied_credit(self, invoices: list[Invoice], on: date) -> None:
        """Settle what is open on ``invoices`` with money received but not yet applied.
        Payments records it; a new invoice, a bounce or a rejected dispute asks for it."""
        raise NotImplementedError
