"""The small records an account keeps, the vocabularies of the cycle, and the ids.

The records are mutable dataclasses held in the account's state. They are snapshotted
with the account, so each is registered as a transcoding (see core.transcodings) under
its name in RECORDS: never change one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from huikuan.core import vocabulary
from huikuan.core.money import ZERO


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
    # Fields added later have defaults: snapshots taken before them still load.
    recovered: Decimal = ZERO
    """Money received on the written-off part after the write-off (a recovery)."""
    class_steps: list[list[Any]] | None = None
    """[from date, class] in date order: the classes the policy scheduled for the
    invoice (``ClassScheduled``); None: none was scheduled (recorded before schedules
    existed), the class is ``class_`` as the cycle last decided it."""

    def settled_on(self) -> date | None:
        """The day nothing was left open (the last movement), or None while money is open."""
        if self.open_amount > 0 or not self.movements:
            return None
        last: date = max(d for d, _ in self.movements)
        return last

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
    recovered: dict[str, Decimal] = field(default_factory=dict)
    """Invoice ids to the part of their written-off money this payment recovered."""


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
    # What the promise review flagged when it was made (PromiseFlagged); a default, so
    # promises in snapshots taken before it existed read as unflagged.
    concerns: list[str] = field(default_factory=list)


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

# The vocabularies of the daily cycle: escalation stages, receivable classes and credit
# grades. Defined here only; huikuan.core.account re-exports them.
# The vocabularies are the plugin API's (core.vocabulary); re-exported here for the account.
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
