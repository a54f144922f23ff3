"""The customer account: one event-sourced aggregate per customer (专案档案, the case file).

The account holds the customer's terms and every receivable, payment, credit, dispute,
promise, plan and contact. Command methods check a command against the account and,
if it is acceptable, trigger one past-tense event; the event's ``apply`` is the only
place state changes, and it runs again, unchanged, whenever the account is replayed.
So ``apply`` bodies never read a clock, call a plugin or do I/O, and they never
validate: a rule that changes later must not stop old events from replaying.

Facts from the world (an invoice issued, a payment received) carry a business date
(``occurred_on``) besides the time they were recorded. Decisions of the daily cycle
(stage entered, message queued…) also record which plugin decided, its version and
what the decision was based on, so a replay never asks a plugin again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from huikuan.core import vocabulary
from huikuan.core.aggregate import ChainedAggregate
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.money import ZERO, money, zero

# --------------------------------------------------------------------------- records
# Small mutable records the account keeps. They are snapshotted with the account, so
# each is registered as a transcoding (see core.transcodings) under the name in RECORDS.


@dataclass
class Invoice:
    """A receivable (应收账款): one invoice and what has reduced it."""

    invoice_id: str
    amount: Decimal
    issued_on: date
    due_on: date
    contract_ref: str | None = None
    order_ref: str | None = None
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    written_off: Decimal = ZERO
    interest: Decimal = ZERO
    interest_accrued_to: date | None = None
    delivered_on: date | None = None
    receipt_ref: str | None = None
    signed_by: str | None = None
    acknowledged_on: date | None = None
    class_: str = "not_due"
    movements: list[list[Any]] = field(default_factory=list)
    """[business date, change of the open amount], in the order recorded."""

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid - self.credited - self.written_off

    def move(self, on: date, delta: Decimal) -> None:
        self.movements.append([on, delta])

    def room_from(self, on: date) -> Decimal:
        """The most that may leave this invoice on business date ``on``.

        The open amount as of every later date must stay at or above zero, so history
        as of any date never shows a negative balance (a payment bounced on 1 March
        does not make room for a credit note dated 1 February).
        """
        dates = sorted({on, *(d for d, _ in self.movements if d > on)})
        lowest = self.open_amount
        for day in dates:
            lowest = min(lowest, sum((v for d, v in self.movements if d <= day), ZERO))
        return max(lowest, ZERO)


@dataclass
class Payment:
    """Money received (回款). ``allocations`` maps invoice ids to the part settled."""

    payment_id: str
    amount: Decimal
    received_on: date
    method: str | None = None
    allocations: dict[str, Decimal] = field(default_factory=dict)
    unapplied: Decimal = ZERO
    bounced_on: date | None = None


@dataclass
class CreditNote:
    """An allowance (折让) against an invoice."""

    credit_note_id: str
    invoice_id: str
    amount: Decimal
    issued_on: date
    reason: str | None = None


@dataclass
class Dispute:
    """Part or all of an invoice the customer contests (争议/异议)."""

    dispute_id: str
    invoice_id: str
    amount: Decimal
    raised_on: date
    reason: str | None = None
    resolved_on: date | None = None
    outcome: str | None = None
    credited_amount: Decimal = ZERO

    @property
    def is_open(self) -> bool:
        return self.resolved_on is None


@dataclass
class Promise:
    """A promise to pay (付款承诺书): ``pending`` until the cycle finds it kept or broken."""

    promise_id: str
    amount: Decimal
    due_on: date
    made_on: date
    written: bool = False
    document_ref: str | None = None
    status: str = "pending"


@dataclass
class PaymentPlan:
    """An instalment plan (分期付款): ``installments`` is a list of {due_on, amount}."""

    plan_id: str
    agreed_on: date
    installments: list[dict[str, Any]]
    status: str = "active"
    missed: list[int] = field(default_factory=list)


@dataclass
class ContactRecord:
    """One contact in the case file: who, when, which channel, what came of it."""

    contact_id: str
    occurred_at: datetime
    occurred_on: date
    channel: str
    direction: str
    outcome: str
    note: str | None = None
    evidence_ref: str | None = None
    collector: str | None = None


@dataclass
class Message:
    """A message the policy queued: a letter, e-mail, text, or a task for a person."""

    message_id: str
    kind: str
    channel: str
    queued_on: date
    subject: str
    recipient: str | None = None
    body: str = ""
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    """When the dispatcher may try next (after a failure or a hold); None: at once."""
    invoice_ids: list[str] = field(default_factory=list)
    sent_at: datetime | None = None


RECORDS: dict[str, type[Any]] = {
    "huikuan_invoice": Invoice,
    "huikuan_payment": Payment,
    "huikuan_credit_note": CreditNote,
    "huikuan_dispute": Dispute,
    "huikuan_promise": Promise,
    "huikuan_payment_plan": PaymentPlan,
    "huikuan_contact": ContactRecord,
    "huikuan_message": Message,
}

STAGES, CLASSES, GRADES = vocabulary.STAGES, vocabulary.CLASSES, vocabulary.GRADES


def account_id(customer_id: str) -> UUID:
    """The account's id follows from the client's customer id, so a duplicate is impossible."""
    return uuid5(NAMESPACE_URL, f"huikuan:account:{customer_id}")


def derived_id(kind: str, content: dict[str, Any]) -> str:
    """An id for a fact the client gave none, taken from its content.

    Posting the same contact, acknowledgment or signal twice then records it once.
    """
    text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return "h-" + hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()[:20]


def _same_request(recorded: dict[str, Any], request: dict[str, Any]) -> bool:
    # Optional fields left out and fields given as null mean the same thing.
    def present(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if v is not None}

    return present(recorded) == present(request)


# --------------------------------------------------------------------------- aggregate


class Account(ChainedAggregate):
    """A customer's account: its terms, receivables and the whole case file."""

    TOPIC = "huikuan:Account"

    # ---- events: the base classes

    class Event(ChainedAggregate.Event):
        TOPIC = "huikuan:Account.Event"

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            """The invoices whose state this event changes, asked of the account as it
            stands just before the event; None when it may be any of them.

            Projections rewrite only these invoices' rows, so the cost of an event does
            not grow with the size of its account. None, the default for an event that
            does not say, is always safe: every invoice is rewritten.
            """
            return None

    class Fact(Event):
        """A fact from the world, identified by a client-chosen (or derived) id.

        ``KIND`` and ``ID_FIELD`` name the fact for idempotency; ``REQUEST_FIELDS``
        are what the client asked for, compared when the same id is posted again.
        """

        TOPIC = "huikuan:Account.Fact"
        KIND: ClassVar[str] = ""
        ID_FIELD: ClassVar[str] = ""
        REQUEST_FIELDS: ClassVar[tuple[str, ...]] = ()

        def apply(self, account: Account) -> None:
            key = f"{self.KIND}:{getattr(self, self.ID_FIELD)}"
            account.requests[key] = {f: getattr(self, f) for f in self.REQUEST_FIELDS}
            account.review_needed = True

    class Decision(Event):
        """A decision of the daily cycle, with who decided and on what it was based."""

        TOPIC = "huikuan:Account.Decision"
        decided_on: date
        plugin: str
        plugin_version: str
        based_on: dict[str, Any]

        @property
        def occurred_on(self) -> date:
            return self.decided_on

    class Created(ChainedAggregate.Created):
        # The library's generic "created" event; never triggered (accounts are opened
        # by Registered), named only so no two event classes share a topic.
        TOPIC = "huikuan:Account.Created"

    # ---- registration

    class Registered(ChainedAggregate.Created):
        """The customer's account was opened with its terms (客户建档)."""

        TOPIC = "huikuan:Account.Registered"
        customer_id: str
        name: str
        currency: str
        payment_terms_days: int
        credit_limit: Decimal | None
        credit_grade: str | None
        timezone: str
        collector: str | None
        contacts: list[dict[str, Any]]
        tax_id: str | None
        registered_on: date
        tags: list[str]
        language: str

        REQUEST_FIELDS: ClassVar[tuple[str, ...]] = (
            "customer_id", "name", "currency", "payment_terms_days", "credit_limit",
            "credit_grade", "timezone", "collector", "contacts", "tax_id", "tags", "language",
        )

        @property
        def occurred_on(self) -> date:
            return self.registered_on

        def apply(self, account: Account) -> None:
            account.customer_id = self.customer_id
            account.name = self.name
            account.currency = self.currency
            account.payment_terms_days = self.payment_terms_days
            account.credit_limit = self.credit_limit
            account.credit_grade = self.credit_grade
            account.timezone = self.timezone
            account.collector = self.collector
            account.contacts = [dict(c) for c in self.contacts]
            account.tax_id = self.tax_id
            account.registered_on = self.registered_on
            account.tags = list(self.tags)
            account.language = self.language
            account.requests["customer:" + self.customer_id] = {
                f: getattr(self, f) for f in self.REQUEST_FIELDS
            }

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

    @classmethod
    def register(
        cls,
        *,
        customer_id: str,
        name: str,
        currency: str,
        registered_on: date,
        payment_terms_days: int = 30,
        credit_limit: Decimal | None = None,
        credit_grade: str | None = None,
        timezone: str = "Asia/Shanghai",
        collector: str | None = None,
        contacts: list[dict[str, Any]] | None = None,
        tax_id: str | None = None,
        tags: list[str] | None = None,
        language: str = "zh-CN",
    ) -> Account:
        """Open the account of a new customer."""
        if credit_limit is not None:
            credit_limit = money(credit_limit, currency, field="credit_limit", allow_zero=True)
        if payment_terms_days < 0:
            raise InvalidCommand("payment terms cannot be negative", field="payment_terms_days")
        if credit_grade is not None and credit_grade not in GRADES:
            raise InvalidCommand("credit grade is one of A–E", field="credit_grade")
        try:
            ZoneInfo(timezone)
        except Exception:  # ZoneInfo raises several types for a bad key
            msg = f"{timezone!r} is not an IANA time zone"
            raise InvalidCommand(msg, field="timezone") from None
        return cls._create(
            cls.Registered,
            id=account_id(customer_id),
            customer_id=customer_id,
            name=name,
            currency=currency,
            payment_terms_days=payment_terms_days,
            credit_limit=credit_limit,
            credit_grade=credit_grade,
            timezone=timezone,
            collector=collector,
            contacts=[dict(c) for c in contacts or []],
            tax_id=tax_id,
            registered_on=registered_on,
            tags=sorted(set(tags or [])),
            language=language,
        )

    def is_same_registration(self, request: dict[str, Any]) -> bool:
        """Does ``request`` repeat the registration already recorded?"""
        if request.get("credit_limit") is not None:
            request = {
                **request,
                "credit_limit": money(
                    request["credit_limit"], self.currency, field="credit_limit", allow_zero=True
                ),
            }
        return _same_request(self.requests["customer:" + self.customer_id], request)

    # ---- idempotency

    def _is_repeat(self, event_class: type[Account.Fact], fields: dict[str, Any]) -> bool:
        """True if this fact was recorded before with the same content; Conflict if not."""
        fact_id = fields[event_class.ID_FIELD]
        recorded = self.requests.get(f"{event_class.KIND}:{fact_id}")
        if recorded is None:
            return False
        request = {f: fields.get(f) for f in event_class.REQUEST_FIELDS}
        if _same_request(recorded, request):
            return True
        msg = f"{event_class.KIND} {fact_id!r} was recorded before with different content"
        raise Conflict(msg, field=event_class.ID_FIELD)

    def _record(self, event_class: type[Account.Fact], **fields: Any) -> bool:
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

    # ---- invoices and deliveries

    class InvoiceIssued(Fact):
        """A sale was invoiced: a receivable with its due date (到期日)."""

        TOPIC = "huikuan:Account.InvoiceIssued"
        # v2 added the contract and order references; v1 invoices had neither.
        class_version = 2
        KIND = "invoice"
        ID_FIELD = "invoice_id"
        REQUEST_FIELDS = (
            "invoice_id", "amount", "issued_on", "due_on", "contract_ref", "order_ref",
        )
        invoice_id: str
        amount: Decimal
        issued_on: date
        due_on: date
        contract_ref: str | None
        order_ref: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (self.invoice_id,)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["contract_ref"] = None
            state["order_ref"] = None

        @property
        def occurred_on(self) -> date:
            return self.issued_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.invoices[self.invoice_id] = Invoice(
                invoice_id=self.invoice_id,
                amount=self.amount,
                issued_on=self.issued_on,
                due_on=self.due_on,
                contract_ref=self.contract_ref,
                order_ref=self.order_ref,
                movements=[[self.issued_on, self.amount]],
            )
            account._track(account.invoices[self.invoice_id])
            delivery = account.deliveries.get(self.invoice_id)
            if delivery is not None:
                _mark_delivered(account.invoices[self.invoice_id], delivery)

    class CreditApplied(Event):
        """Unapplied credit from an earlier payment settled part of a new invoice."""

        TOPIC = "huikuan:Account.CreditApplied"
        payment_id: str
        invoice_id: str
        amount: Decimal
        applied_on: date

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (self.invoice_id,)

        @property
        def occurred_on(self) -> date:
            return self.applied_on

        def apply(self, account: Account) -> None:
            payment = account.payments[self.payment_id]
            invoice = account.invoices[self.invoice_id]
            payment.unapplied -= self.amount
            payment.allocations[self.invoice_id] = (
                payment.allocations.get(self.invoice_id, ZERO) + self.amount
            )
            invoice.paid += self.amount
            invoice.move(self.applied_on, -self.amount)
            account._track(invoice)
            left = account.credits.get(self.payment_id, ZERO) - self.amount
            if left > 0:
                account.credits[self.payment_id] = left
            else:
                account.credits.pop(self.payment_id, None)

    def issue_invoice(
        self,
        *,
        invoice_id: str,
        amount: Decimal | str | int,
        currency: str,
        issued_on: date,
        due_on: date | None = None,
        contract_ref: str | None = None,
        order_ref: str | None = None,
    ) -> bool:
        """Record an invoice; apply any unapplied credit to it. False if a repeat."""
        self._check_currency(currency)
        fields: dict[str, Any] = {
            "invoice_id": invoice_id,
            "amount": self._money(amount),
            "issued_on": issued_on,
            "due_on": due_on or issued_on + timedelta(days=self.payment_terms_days),
            "contract_ref": contract_ref,
            "order_ref": order_ref,
        }
        if self._is_repeat(self.InvoiceIssued, fields):
            return False
        if fields["due_on"] < issued_on:
            raise InvalidCommand("due date is before the issue date", field="due_on")
        self._record(self.InvoiceIssued, **fields)
        self._apply_unapplied_credit([self.invoices[invoice_id]], issued_on)
        return True

    def _apply_unapplied_credit(self, invoices: list[Invoice], on: date) -> None:
        # Money the customer paid that nothing absorbed settles what is now open
        # (a new invoice, or one a bounce reopened), oldest payment first.
        for invoice in invoices:
            credits = sorted(
                (self.payments[p] for p in self.credits),
                key=lambda p: (p.received_on, p.payment_id),
            )
            for payment in credits:
                applied_on = max(on, invoice.issued_on, payment.received_on)
                room = min(self.undisputed_open(invoice), invoice.room_from(applied_on))
                if room <= 0:
                    break
                self.trigger_event(
                    self.CreditApplied,
                    payment_id=payment.payment_id,
                    invoice_id=invoice.invoice_id,
                    amount=min(room, payment.unapplied),
                    applied_on=applied_on,
                )

    class DeliveryConfirmed(Fact):
        """The goods were received, proven by a signed receipt (回单签收)."""

        TOPIC = "huikuan:Account.DeliveryConfirmed"
        KIND = "delivery"
        ID_FIELD = "invoice_id"
        REQUEST_FIELDS = ("invoice_id", "delivered_on", "receipt_ref", "signed_by")
        invoice_id: str
        delivered_on: date
        receipt_ref: str | None
        signed_by: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (self.invoice_id,)

        @property
        def occurred_on(self) -> date:
            return self.delivered_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            delivery = {
                "delivered_on": self.delivered_on,
                "receipt_ref": self.receipt_ref,
                "signed_by": self.signed_by,
            }
            # Kept apart from the invoice: goods are often delivered before invoicing,
            # so history as of a date may hold the delivery but not yet the invoice.
            account.deliveries[self.invoice_id] = delivery
            if self.invoice_id in account.invoices:
                _mark_delivered(account.invoices[self.invoice_id], delivery)

    def confirm_delivery(
        self,
        *,
        invoice_id: str,
        delivered_on: date,
        receipt_ref: str | None = None,
        signed_by: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {
            "invoice_id": invoice_id,
            "delivered_on": delivered_on,
            "receipt_ref": receipt_ref,
            "signed_by": signed_by,
        }
        if self._is_repeat(self.DeliveryConfirmed, fields):
            return False
        self._invoice(invoice_id)
        return self._record(self.DeliveryConfirmed, **fields)

    # ---- payments

    class PaymentReceived(Fact):
        """Money came in. ``allocations`` is how it was applied, decided when recorded."""

        TOPIC = "huikuan:Account.PaymentReceived"
        KIND = "payment"
        ID_FIELD = "payment_id"
        REQUEST_FIELDS = (
            "payment_id", "amount", "received_on", "method", "requested_allocations",
        )
        payment_id: str
        amount: Decimal
        received_on: date
        method: str | None
        requested_allocations: list[dict[str, Any]] | None
        allocations: list[dict[str, Any]]
        unapplied: Decimal

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return [a["invoice_id"] for a in self.allocations]

        @property
        def occurred_on(self) -> date:
            return self.received_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            payment = Payment(
                payment_id=self.payment_id,
                amount=self.amount,
                received_on=self.received_on,
                method=self.method,
                unapplied=self.unapplied,
            )
            for allocation in self.allocations:
                invoice_id, amount = allocation["invoice_id"], allocation["amount"]
                payment.allocations[invoice_id] = (
                    payment.allocations.get(invoice_id, ZERO) + amount
                )
                account.invoices[invoice_id].paid += amount
                account.invoices[invoice_id].move(self.received_on, -amount)
                account._track(account.invoices[invoice_id])
            account.payments[self.payment_id] = payment
            if self.unapplied > 0:
                account.credits[self.payment_id] = self.unapplied

    def receive_payment(
        self,
        *,
        payment_id: str,
        amount: Decimal | str | int,
        currency: str,
        received_on: date,
        method: str | None = None,
        allocations: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Record a payment. Without allocations it settles the oldest due first."""
        self._check_currency(currency)
        amount = self._money(amount)
        requested = None
        if allocations:
            # The same split written in another order, or in two lines for one invoice,
            # is the same payment.
            merged: dict[str, Decimal] = {}
            for n, a in enumerate(allocations):
                part = self._money(a["amount"], field=f"allocations[{n}].amount")
                merged[a["invoice_id"]] = merged.get(a["invoice_id"], ZERO) + part
            requested = [{"invoice_id": i, "amount": merged[i]} for i in sorted(merged)]
        fields: dict[str, Any] = {
            "payment_id": payment_id,
            "amount": amount,
            "received_on": received_on,
            "method": method,
            "requested_allocations": requested,
        }
        if self._is_repeat(self.PaymentReceived, fields):
            return False
        if requested:
            applied = self._check_allocations(requested, amount, received_on)
        else:
            applied = self._allocate_oldest_first(amount, received_on)
        unapplied = amount - sum((a["amount"] for a in applied), ZERO)
        return self._record(
            self.PaymentReceived, allocations=applied, unapplied=unapplied, **fields
        )

    def _check_allocations(
        self, requested: list[dict[str, Any]], amount: Decimal, received_on: date
    ) -> list[dict[str, Any]]:
        per_invoice: dict[str, Decimal] = {}
        for n, allocation in enumerate(requested):
            field_name = f"allocations[{n}].invoice_id"
            invoice = self._invoice(allocation["invoice_id"], field=field_name)
            if invoice.issued_on > received_on:
                msg = (
                    f"invoice {invoice.invoice_id!r} was issued after the payment was "
                    "received; record the payment as unapplied credit instead"
                )
                raise InvalidCommand(msg, field=field_name)
            per_invoice[invoice.invoice_id] = (
                per_invoice.get(invoice.invoice_id, ZERO) + allocation["amount"]
            )
            room = invoice.room_from(received_on)
            if per_invoice[invoice.invoice_id] > room:
                msg = (
                    f"allocation to invoice {invoice.invoice_id!r} exceeds its open "
                    f"amount {room}"
                )
                raise InvalidCommand(msg, field=f"allocations[{n}].amount")
        if sum(per_invoice.values(), ZERO) > amount:
            raise InvalidCommand(
                "allocations add up to more than the payment", field="allocations"
            )
        return [{"invoice_id": i, "amount": a} for i, a in per_invoice.items()]

    def _allocate_oldest_first(
        self, amount: Decimal, received_on: date
    ) -> list[dict[str, Any]]:
        # Undisputed money first, oldest due first (先把没有争议的部分货款支付给我们);
        # then the disputed parts; anything left stays as unapplied credit.
        eligible = [i for i in self.open_invoices() if i.issued_on <= received_on]
        applied: dict[str, Decimal] = {}
        remaining = amount
        for part in (self.undisputed_open, self.disputed_amount):
            for invoice in eligible:
                if remaining <= 0:
                    break
                room = invoice.room_from(received_on) - applied.get(invoice.invoice_id, ZERO)
                take = min(part(invoice), remaining, room)
                if take > 0:
                    applied[invoice.invoice_id] = applied.get(invoice.invoice_id, ZERO) + take
                    remaining -= take
        return [{"invoice_id": i, "amount": a} for i, a in applied.items()]

    class PaymentBounced(Fact):
        """The payment failed (银行退票): what it settled is open again."""

        TOPIC = "huikuan:Account.PaymentBounced"
        KIND = "bounce"
        ID_FIELD = "payment_id"
        REQUEST_FIELDS = ("payment_id", "bounced_on", "reason")
        payment_id: str
        bounced_on: date
        reason: str | None
        reversed_allocations: list[dict[str, Any]]
        unapplied_removed: Decimal

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return list(account.payments[self.payment_id].allocations)

        @property
        def occurred_on(self) -> date:
            return self.bounced_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            payment = account.payments[self.payment_id]
            # Undo what the payment settles now (the event lists the same for the record).
            for invoice_id, amount in payment.allocations.items():
                if invoice_id in account.invoices:
                    account.invoices[invoice_id].paid -= amount
                    account.invoices[invoice_id].move(self.bounced_on, amount)
                    account._track(account.invoices[invoice_id])
            payment.allocations = {}
            payment.unapplied = zero(account.currency)
            account.credits.pop(self.payment_id, None)
            payment.bounced_on = self.bounced_on

    def bounce_payment(
        self, *, payment_id: str, bounced_on: date, reason: str | None = None
    ) -> bool:
        fields = {"payment_id": payment_id, "bounced_on": bounced_on, "reason": reason}
        if self._is_repeat(self.PaymentBounced, fields):
            return False
        payment = self.payments.get(payment_id)
        if payment is None:
            msg = f"no payment {payment_id!r} on this account"
            raise NotFound(msg, field="payment_id")
        if payment.bounced_on is not None:
            raise Conflict(f"payment {payment_id!r} has already bounced", field="payment_id")
        if bounced_on < payment.received_on:
            raise InvalidCommand(
                "a payment cannot bounce before it was received", field="bounced_on"
            )
        reopened = [self.invoices[i] for i in payment.allocations if i in self.invoices]
        self._record(
            self.PaymentBounced,
            reversed_allocations=[
                {"invoice_id": i, "amount": a} for i, a in payment.allocations.items()
            ],
            unapplied_removed=payment.unapplied,
            **fields,
        )
        self._apply_unapplied_credit(
            sorted(reopened, key=lambda i: (i.due_on, i.issued_on, i.invoice_id)), bounced_on
        )
        return True

    # ---- credit notes, disputes, write-offs

    class CreditNoteIssued(Fact):
        """An allowance (折让) reduced an invoice."""

        TOPIC = "huikuan:Account.CreditNoteIssued"
        KIND = "credit_note"
        ID_FIELD = "credit_note_id"
        REQUEST_FIELDS = ("credit_note_id", "invoice_id", "amount", "issued_on", "reason")
        credit_note_id: str
        invoice_id: str
        amount: Decimal
        issued_on: date
        reason: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (self.invoice_id,)

        @property
        def occurred_on(self) -> date:
            return self.issued_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.credit_notes[self.credit_note_id] = CreditNote(
                credit_note_id=self.credit_note_id,
                invoice_id=self.invoice_id,
                amount=self.amount,
                issued_on=self.issued_on,
                reason=self.reason,
            )
            account.invoices[self.invoice_id].credited += self.amount
            account.invoices[self.invoice_id].move(self.issued_on, -self.amount)
            account._track(account.invoices[self.invoice_id])

    def issue_credit_note(
        self,
        *,
        credit_note_id: str,
        invoice_id: str,
        amount: Decimal | str | int,
        issued_on: date,
        reason: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {
            "credit_note_id": credit_note_id,
            "invoice_id": invoice_id,
            "amount": self._money(amount),
            "issued_on": issued_on,
            "reason": reason,
        }
        if self._is_repeat(self.CreditNoteIssued, fields):
            return False
        invoice = self._invoice(invoice_id)
        self._not_before_issue(invoice, issued_on, "issued_on")
        self._not_beyond_open(invoice, fields["amount"], "a credit note", issued_on)
        return self._record(self.CreditNoteIssued, **fields)

    def _not_beyond_open(self, invoice: Invoice, amount: Decimal, what: str, on: date) -> None:
        room = invoice.room_from(on)
        if amount > room:
            msg = (
                f"{what} of {amount} exceeds the open amount {room} "
                f"of invoice {invoice.invoice_id!r} on {on}"
            )
            raise InvalidCommand(msg, field="amount")

    class DisputeRaised(Fact):
        """The customer contests part or all of an invoice."""

        TOPIC = "huikuan:Account.DisputeRaised"
        KIND = "dispute"
        ID_FIELD = "dispute_id"
        REQUEST_FIELDS = ("dispute_id", "invoice_id", "amount", "raised_on", "reason")
        dispute_id: str
        invoice_id: str
        amount: Decimal
        raised_on: date
        reason: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (self.invoice_id,)

        @property
        def occurred_on(self) -> date:
            return self.raised_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.disputes[self.dispute_id] = Dispute(
                dispute_id=self.dispute_id,
                invoice_id=self.invoice_id,
                amount=self.amount,
                raised_on=self.raised_on,
                reason=self.reason,
            )

    def raise_dispute(
        self,
        *,
        dispute_id: str,
        invoice_id: str,
        amount: Decimal | str | int,
        raised_on: date,
        reason: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {
            "dispute_id": dispute_id,
            "invoice_id": invoice_id,
            "amount": self._money(amount),
            "raised_on": raised_on,
            "reason": reason,
        }
        if self._is_repeat(self.DisputeRaised, fields):
            return False
        invoice = self._invoice(invoice_id)
        self._not_before_issue(invoice, raised_on, "raised_on")
        room = self.undisputed_open(invoice)
        if fields["amount"] > room:
            msg = (
                f"a dispute of {fields['amount']} exceeds the undisputed open amount "
                f"{room} of invoice {invoice_id!r}"
            )
            raise InvalidCommand(msg, field="amount")
        return self._record(self.DisputeRaised, **fields)

    class DisputeResolved(Fact):
        """The dispute ended: ``rejected`` (the money is owed) or ``credited``."""

        TOPIC = "huikuan:Account.DisputeResolved"
        KIND = "resolution"
        ID_FIELD = "dispute_id"
        REQUEST_FIELDS = ("dispute_id", "resolved_on", "outcome", "credited_amount")
        dispute_id: str
        resolved_on: date
        outcome: str
        credited_amount: Decimal

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (account.disputes[self.dispute_id].invoice_id,)

        @property
        def occurred_on(self) -> date:
            return self.resolved_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            dispute = account.disputes[self.dispute_id]
            dispute.resolved_on = self.resolved_on
            dispute.outcome = self.outcome
            dispute.credited_amount = self.credited_amount
            invoice = account.invoices[dispute.invoice_id]
            invoice.credited += self.credited_amount
            if self.credited_amount:
                invoice.move(self.resolved_on, -self.credited_amount)
                account._track(invoice)

    def resolve_dispute(
        self,
        *,
        dispute_id: str,
        resolved_on: date,
        outcome: str,
        credited_amount: Decimal | str | int | None = None,
    ) -> bool:
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            msg = f"no dispute {dispute_id!r} on this account"
            raise NotFound(msg, field="dispute_id")
        if outcome == "credited":
            credited = (
                dispute.amount if credited_amount is None
                else self._money(credited_amount, field="credited_amount")
            )
        elif outcome == "rejected":
            if credited_amount is not None and Decimal(credited_amount) != 0:
                raise InvalidCommand(
                    "a rejected dispute credits nothing", field="credited_amount"
                )
            credited = zero(self.currency)
        else:
            raise InvalidCommand("outcome is 'rejected' or 'credited'", field="outcome")
        fields: dict[str, Any] = {
            "dispute_id": dispute_id,
            "resolved_on": resolved_on,
            "outcome": outcome,
            "credited_amount": credited,
        }
        if self._is_repeat(self.DisputeResolved, fields):
            return False
        if not dispute.is_open:
            raise Conflict(f"dispute {dispute_id!r} is already resolved", field="dispute_id")
        if resolved_on < dispute.raised_on:
            raise InvalidCommand(
                "a dispute cannot be resolved before it was raised", field="resolved_on"
            )
        invoice = self.invoices[dispute.invoice_id]
        if credited > dispute.amount:
            raise InvalidCommand(
                f"the credit exceeds the disputed amount {dispute.amount}",
                field="credited_amount",
            )
        room = invoice.room_from(resolved_on)
        if credited > room:
            raise InvalidCommand(
                f"the credit exceeds the open amount {room}",
                field="credited_amount",
            )
        self._record(self.DisputeResolved, **fields)
        if outcome == "rejected":
            # The contested money is owed after all; credit waiting on the account pays it.
            self._apply_unapplied_credit([invoice], resolved_on)
        return True

    class WrittenOff(Fact):
        """Part or all of an invoice was written off (核销); the claim stays on record."""

        TOPIC = "huikuan:Account.WrittenOff"
        KIND = "write_off"
        ID_FIELD = "write_off_id"
        REQUEST_FIELDS = ("write_off_id", "invoice_id", "amount", "written_off_on", "reason")
        write_off_id: str
        invoice_id: str
        amount: Decimal
        written_off_on: date
        reason: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (self.invoice_id,)

        @property
        def occurred_on(self) -> date:
            return self.written_off_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.write_offs[self.write_off_id] = {
                "invoice_id": self.invoice_id,
                "amount": self.amount,
                "written_off_on": self.written_off_on,
                "reason": self.reason,
            }
            invoice = account.invoices[self.invoice_id]
            invoice.written_off += self.amount
            invoice.move(self.written_off_on, -self.amount)
            account._track(invoice)
            invoice.class_ = "dead"

    def write_off(
        self,
        *,
        invoice_id: str,
        amount: Decimal | str | int,
        written_off_on: date,
        reason: str | None = None,
        write_off_id: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {
            "invoice_id": invoice_id,
            "amount": self._money(amount),
            "written_off_on": written_off_on,
            "reason": reason,
        }
        fields["write_off_id"] = write_off_id or derived_id("write_off", fields)
        if self._is_repeat(self.WrittenOff, fields):
            return False
        invoice = self._invoice(invoice_id)
        self._not_before_issue(invoice, written_off_on, "written_off_on")
        self._not_beyond_open(invoice, fields["amount"], "a write-off", written_off_on)
        return self._record(self.WrittenOff, **fields)

    # ---- the case file: contacts, promises, plans, acknowledgments, signals

    class ContactLogged(Fact):
        """A contact with the customer: channel, direction, outcome, evidence."""

        TOPIC = "huikuan:Account.ContactLogged"
        KIND = "contact"
        ID_FIELD = "contact_id"
        REQUEST_FIELDS = (
            "contact_id", "occurred_at", "channel", "direction", "outcome", "note",
            "evidence_ref", "collector",
        )
        contact_id: str
        occurred_at: datetime
        contact_date: date
        channel: str
        direction: str
        outcome: str
        note: str | None
        evidence_ref: str | None
        collector: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        @property
        def occurred_on(self) -> date:
            return self.contact_date

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.contact_log.append(
                ContactRecord(
                    contact_id=self.contact_id,
                    occurred_at=self.occurred_at,
                    occurred_on=self.contact_date,
                    channel=self.channel,
                    direction=self.direction,
                    outcome=self.outcome,
                    note=self.note,
                    evidence_ref=self.evidence_ref,
                    collector=self.collector,
                )
            )

    def log_contact(
        self,
        *,
        occurred_at: datetime,
        channel: str,
        direction: str,
        outcome: str,
        contact_id: str | None = None,
        note: str | None = None,
        evidence_ref: str | None = None,
        collector: str | None = None,
    ) -> bool:
        if occurred_at.tzinfo is None:
            raise InvalidCommand("occurred_at needs a UTC offset", field="occurred_at")
        occurred_at = occurred_at.astimezone(UTC)  # one instant, one way of writing it
        fields: dict[str, Any] = {
            "occurred_at": occurred_at,
            "channel": channel,
            "direction": direction,
            "outcome": outcome,
            "note": note,
            "evidence_ref": evidence_ref,
            "collector": collector,
        }
        fields["contact_id"] = contact_id or derived_id("contact", fields)
        if self._is_repeat(self.ContactLogged, fields):
            return False
        # The business date of a contact is its date where the customer is.
        contact_date = occurred_at.astimezone(ZoneInfo(self.timezone)).date()
        return self._record(self.ContactLogged, contact_date=contact_date, **fields)

    class PromiseMade(Fact):
        """The customer promised to pay an amount by a date (付款承诺)."""

        TOPIC = "huikuan:Account.PromiseMade"
        KIND = "promise"
        ID_FIELD = "promise_id"
        REQUEST_FIELDS = (
            "promise_id", "amount", "due_on", "made_on", "written", "document_ref",
        )
        promise_id: str
        amount: Decimal
        due_on: date
        made_on: date
        written: bool
        document_ref: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        @property
        def occurred_on(self) -> date:
            return self.made_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.promises[self.promise_id] = Promise(
                promise_id=self.promise_id,
                amount=self.amount,
                due_on=self.due_on,
                made_on=self.made_on,
                written=self.written,
                document_ref=self.document_ref,
            )

    def make_promise(
        self,
        *,
        promise_id: str,
        amount: Decimal | str | int,
        due_on: date,
        made_on: date,
        written: bool = False,
        document_ref: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {
            "promise_id": promise_id,
            "amount": self._money(amount),
            "due_on": due_on,
            "made_on": made_on,
            "written": written,
            "document_ref": document_ref,
        }
        if self._is_repeat(self.PromiseMade, fields):
            return False
        if due_on < made_on:
            raise InvalidCommand("a promise cannot fall due before it was made", field="due_on")
        if fields["amount"] > self.outstanding:
            msg = f"the promise exceeds what is owed ({self.outstanding})"
            raise InvalidCommand(msg, field="amount")
        return self._record(self.PromiseMade, **fields)

    class PaymentPlanAgreed(Fact):
        """The customer agreed to pay in instalments (分期付款)."""

        TOPIC = "huikuan:Account.PaymentPlanAgreed"
        KIND = "plan"
        ID_FIELD = "plan_id"
        REQUEST_FIELDS = ("plan_id", "agreed_on", "installments")
        plan_id: str
        agreed_on: date
        installments: list[dict[str, Any]]

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        @property
        def occurred_on(self) -> date:
            return self.agreed_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.plans[self.plan_id] = PaymentPlan(
                plan_id=self.plan_id,
                agreed_on=self.agreed_on,
                installments=[dict(i) for i in self.installments],
            )

    def agree_payment_plan(
        self, *, plan_id: str, agreed_on: date, installments: list[dict[str, Any]]
    ) -> bool:
        if not installments:
            raise InvalidCommand("a plan has at least one instalment", field="installments")
        checked = [
            {
                "due_on": i["due_on"],
                "amount": self._money(i["amount"], field=f"installments[{n}].amount"),
            }
            for n, i in enumerate(installments)
        ]
        fields = {"plan_id": plan_id, "agreed_on": agreed_on, "installments": checked}
        if self._is_repeat(self.PaymentPlanAgreed, fields):
            return False
        previous = agreed_on
        for n, installment in enumerate(checked):
            if installment["due_on"] < previous:
                msg = "instalments fall due in order, none before the plan was agreed"
                raise InvalidCommand(msg, field=f"installments[{n}].due_on")
            previous = installment["due_on"]
        total = sum((i["amount"] for i in checked), ZERO)
        if total > self.outstanding:
            msg = f"the plan's instalments exceed what is owed ({self.outstanding})"
            raise InvalidCommand(msg, field="installments")
        return self._record(self.PaymentPlanAgreed, **fields)

    class DebtAcknowledged(Fact):
        """The debtor acknowledged the debt in writing: the limitation period restarts.

        ``invoice_ids`` is what the client named (None: all); ``covered_invoice_ids``
        the invoices the acknowledgment was found to cover when it was recorded.
        """

        TOPIC = "huikuan:Account.DebtAcknowledged"
        KIND = "acknowledgment"
        ID_FIELD = "acknowledgment_id"
        REQUEST_FIELDS = ("acknowledgment_id", "acknowledged_on", "document_ref", "invoice_ids")
        acknowledgment_id: str
        acknowledged_on: date
        document_ref: str | None
        invoice_ids: list[str] | None
        covered_invoice_ids: list[str]

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return self.covered_invoice_ids

        @property
        def occurred_on(self) -> date:
            return self.acknowledged_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.acknowledgments.append(
                {
                    "acknowledgment_id": self.acknowledgment_id,
                    "acknowledged_on": self.acknowledged_on,
                    "document_ref": self.document_ref,
                    "invoice_ids": list(self.covered_invoice_ids),
                }
            )
            for invoice_id in self.covered_invoice_ids:
                invoice = account.invoices.get(invoice_id)
                if invoice is not None:
                    invoice.acknowledged_on = max(
                        invoice.acknowledged_on or self.acknowledged_on, self.acknowledged_on
                    )

    def acknowledge_debt(
        self,
        *,
        acknowledged_on: date,
        document_ref: str | None = None,
        invoice_ids: list[str] | None = None,
        acknowledgment_id: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {
            "acknowledged_on": acknowledged_on,
            "document_ref": document_ref,
            "invoice_ids": sorted(set(invoice_ids)) if invoice_ids else None,
        }
        fields["acknowledgment_id"] = acknowledgment_id or derived_id("acknowledgment", fields)
        if self._is_repeat(self.DebtAcknowledged, fields):
            return False
        if invoice_ids:
            for n, invoice_id in enumerate(invoice_ids):
                invoice = self._invoice(invoice_id, field=f"invoice_ids[{n}]")
                self._not_before_issue(invoice, acknowledged_on, "acknowledged_on")
            covered = sorted(set(invoice_ids))
        else:
            # Without a list, the acknowledgment covers every invoice then open.
            covered = [
                i.invoice_id for i in self.open_invoices() if i.issued_on <= acknowledged_on
            ]
        return self._record(self.DebtAcknowledged, covered_invoice_ids=covered, **fields)

    class RiskSignalReported(Fact):
        """A collector saw a danger sign (客户发生欠款的危险信号)."""

        TOPIC = "huikuan:Account.RiskSignalReported"
        KIND = "risk_signal"
        ID_FIELD = "signal_id"
        REQUEST_FIELDS = ("signal_id", "signal", "observed_on", "note")
        signal_id: str
        signal: str
        observed_on: date
        note: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        @property
        def occurred_on(self) -> date:
            return self.observed_on

        def apply(self, account: Account) -> None:
            super().apply(account)
            account.risk_signals.append(
                {"signal_id": self.signal_id, "signal": self.signal,
                 "observed_on": self.observed_on, "note": self.note}
            )

    def report_risk_signal(
        self,
        *,
        signal: str,
        observed_on: date,
        note: str | None = None,
        signal_id: str | None = None,
    ) -> bool:
        fields: dict[str, Any] = {"signal": signal, "observed_on": observed_on, "note": note}
        fields["signal_id"] = signal_id or derived_id("risk_signal", fields)
        if self._is_repeat(self.RiskSignalReported, fields):
            return False
        return self._record(self.RiskSignalReported, **fields)

    # ---- decisions of the daily cycle
    # Their shape is settled here; the cycle and its plugins (core.cycle, plugins/)
    # decide when to record them. Each names the plugin, its version and its inputs.

    class PromiseKept(Decision):
        TOPIC = "huikuan:Account.PromiseKept"
        promise_id: str

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            account.promises[self.promise_id].status = "kept"

    class PromiseBroken(Decision):
        TOPIC = "huikuan:Account.PromiseBroken"
        promise_id: str

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            account.promises[self.promise_id].status = "broken"

    class InstallmentMissed(Decision):
        TOPIC = "huikuan:Account.InstallmentMissed"
        plan_id: str
        installment: int

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            plan = account.plans[self.plan_id]
            plan.missed.append(self.installment)
            plan.status = "broken"

    class StageEntered(Decision):
        """The account rose (or fell back) to an escalation stage; ``skipped`` lists
        the steps passed over after a gap, recorded but not acted on."""

        TOPIC = "huikuan:Account.StageEntered"
        stage: str
        skipped: list[str]

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            account.stage = self.stage
            account.stage_entered_on = self.decided_on

    class SupplyHeld(Decision):
        """No new goods until the old debt is paid (前款不结，后货不送)."""

        TOPIC = "huikuan:Account.SupplyHeld"
        reason: str

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            account.supply_hold = True

    class SupplyReleased(Decision):
        TOPIC = "huikuan:Account.SupplyReleased"
        reason: str

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            account.supply_hold = False

    class MessageQueued(Decision):
        """A letter, e-mail, text or task was queued: the outbox lives in the event store."""

        TOPIC = "huikuan:Account.MessageQueued"
        message_id: str
        kind: str
        channel: str
        recipient: str | None
        language: str
        subject: str
        body: str
        amount: Decimal
        invoice_ids: list[str]
        deadline: date | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            account.messages[self.message_id] = Message(
                message_id=self.message_id,
                kind=self.kind,
                channel=self.channel,
                queued_on=self.decided_on,
                subject=self.subject,
                recipient=self.recipient,
                body=self.body,
                invoice_ids=list(self.invoice_ids),
            )

    class MessageHeld(Event):
        """A message waits for a permitted contact time."""

        TOPIC = "huikuan:Account.MessageHeld"
        message_id: str
        held_at: datetime
        until: datetime
        reason: str

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        @property
        def occurred_on(self) -> date:
            return self.held_at.date()

        def apply(self, account: Account) -> None:
            message = account.queued_message(self.message_id)
            if message is None:
                return
            message.status = "held"
            message.next_attempt_at = self.until

    class MessageSent(Event):
        TOPIC = "huikuan:Account.MessageSent"
        message_id: str
        sent_at: datetime
        attempt: int
        receipt: str | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        @property
        def occurred_on(self) -> date:
            return self.sent_at.date()

        def apply(self, account: Account) -> None:
            message = account.queued_message(self.message_id)
            if message is None:
                return
            message.status = "sent"
            message.sent_at = self.sent_at
            message.attempts = self.attempt
            message.next_attempt_at = None

    class MessageFailed(Event):
        """A delivery attempt failed; ``retry_at`` is None when no retry is left."""

        TOPIC = "huikuan:Account.MessageFailed"
        message_id: str
        failed_at: datetime
        attempt: int
        error: str
        retry_at: datetime | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        @property
        def occurred_on(self) -> date:
            return self.failed_at.date()

        def apply(self, account: Account) -> None:
            message = account.queued_message(self.message_id)
            if message is None:
                return
            message.status = "pending" if self.retry_at is not None else "failed"
            message.attempts = self.attempt
            message.next_attempt_at = self.retry_at

    class MessageCancelled(Event):
        """A queued message was not sent: what it demanded is no longer owed, or it
        no longer applies (the customer paid, disputed, or promised meanwhile)."""

        TOPIC = "huikuan:Account.MessageCancelled"
        message_id: str
        cancelled_at: datetime
        reason: str

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        @property
        def occurred_on(self) -> date:
            return self.cancelled_at.date()

        def apply(self, account: Account) -> None:
            message = account.queued_message(self.message_id)
            if message is None:
                return
            message.status = "cancelled"
            message.next_attempt_at = None

    class InterestCharged(Decision):
        """Late interest (罚息) accrued on an invoice for a span of days."""

        TOPIC = "huikuan:Account.InterestCharged"
        invoice_id: str
        amount: Decimal
        from_on: date
        to_on: date
        annual_rate: Decimal

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (self.invoice_id,)

        def apply(self, account: Account) -> None:
            invoice = account.invoices[self.invoice_id]
            invoice.interest += self.amount
            invoice.interest_accrued_to = self.to_on

    class ClassChanged(Decision):
        """A receivable moved between classes (未收款/催收款/准呆款/呆款/死款)."""

        TOPIC = "huikuan:Account.ClassChanged"
        invoice_id: str
        previous: str
        new: str

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return (self.invoice_id,)

        def apply(self, account: Account) -> None:
            account.invoices[self.invoice_id].class_ = self.new

    class RiskChanged(Decision):
        TOPIC = "huikuan:Account.RiskChanged"
        score: int
        grade: str
        signals: list[str]

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            account.risk = {"score": self.score, "grade": self.grade,
                            "signals": list(self.signals)}

    class ReviewScheduled(Decision):
        """The cycle has decided for the account and need not look again before
        ``next_review`` (None: not until a fact arrives), the earliest date any plugin
        named; ``based_on`` holds each plugin's date."""

        TOPIC = "huikuan:Account.ReviewScheduled"
        next_review: date | None

        def invoices_changed(self, account: Account) -> Collection[str] | None:
            return ()

        def apply(self, account: Account) -> None:
            account.review_needed = False
            account.next_review = self.next_review
            account.reviewed_on = self.decided_on

    # A new fact may change any decision: the account is reviewed at the next cycle.
    # (Class attributes, so accounts restored from older snapshots have them too.)
    review_needed: bool = True
    next_review: date | None = None
    reviewed_on: date | None = None

    def due_for_review(self, as_of: date) -> bool:
        """Whether the daily cycle for ``as_of`` must look at this account."""
        return self.review_needed or (
            self.next_review is not None and self.next_review <= as_of)

    def queued_message(self, message_id: str) -> Message | None:
        """The message, or None in history as of a date before it was queued (its
        delivery may be dated earlier than its queuing in another time zone)."""
        return self.messages.get(message_id)

    def record_decision(self, event_class: type[Account.Decision], **fields: Any) -> None:
        """Record a decision the cycle made; the cycle has checked it against the state."""
        self.trigger_event(event_class, **fields)

    def record_delivery_outcome(self, event_class: type[Account.Event], **fields: Any) -> None:
        """Record what happened to a queued message (held, sent, failed)."""
        message_id = fields["message_id"]
        if message_id not in self.messages:
            raise NotFound(f"no message {message_id!r} on this account", field="message_id")
        self.trigger_event(event_class, **fields)

    # ---- history

    @classmethod
    def replay(cls, events: list[Any]) -> Account | None:
        """Fold a selection of this account's events (say, those up to a business date).

        Unlike the repository, versions may have gaps: the events left out are simply
        not applied. The registration must be among the events.
        """
        account: Account | None = None
        for event in events:
            if account is None:
                account = event.mutate(None)
            else:
                event.apply(account)
                account.version = event.originator_version
                account.modified_on = event.timestamp
                account.chain_head = event.chain_hash
        return account


def _mark_delivered(invoice: Invoice, delivery: dict[str, Any]) -> None:
    invoice.delivered_on = delivery["delivered_on"]
    invoice.receipt_ref = delivery["receipt_ref"]
    invoice.signed_by = delivery["signed_by"]
