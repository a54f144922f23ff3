"""Receivables: invoices, proof of delivery, credit notes and write-offs (应收账款)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from huikuan.core.account.events import Event, Fact
from huikuan.core.account.records import CreditNote, Invoice, derived_id
from huikuan.core.account.state import AccountState
from huikuan.core.errors import InvalidCommand


class Receivables(AccountState):
    """Invoices and what reduces them other than money: allowances and write-offs."""

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
        DATE_FIELD = "issued_on"
        INVOICE_FIELD = "invoice_id"
        invoice_id: str
        amount: Decimal
        issued_on: date
        due_on: date
        contract_ref: str | None
        order_ref: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["contract_ref"] = None
            state["order_ref"] = None

        def apply(self, account: AccountState) -> None:
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
            "due_on": due_on or self._default_due(invoice_id, issued_on),
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

    def _default_due(self, invoice_id: str, issued_on: date) -> date:
        """Issued + the terms in force on the issue date. For an invoice already
        recorded, its own due date: terms changed since never re-date it, and a retry
        that leaves ``due_on`` out is the same request as before."""
        recorded = self.invoices.get(invoice_id)
        if recorded is not None and recorded.issued_on == issued_on:
            return recorded.due_on
        return issued_on + timedelta(days=self.terms_on(issued_on))

    class CreditOverridden(Event):
        """A sale the credit check refused (over the limit, supply on hold…) was let
        through by a manager, who gave the reason; the refusal's reasons are kept."""

        TOPIC = "huikuan:Account.CreditOverridden"
        DATE_FIELD = "overridden_on"
        CHANGES_INVOICES = False
        invoice_id: str
        amount: Decimal
        overridden_on: date
        reasons: list[str]
        override_reason: str
        overridden_by: str | None

        def apply(self, account: AccountState) -> None:
            account.credit_overrides = {
                **account.credit_overrides,
                self.invoice_id: {"reasons": list(self.reasons),
                                  "override_reason": self.override_reason,
                                  "overridden_by": self.overridden_by},
            }

    def override_credit(self, *, invoice_id: str, reasons: list[str], override_reason: str,
                        overridden_by: str | None) -> None:
        """Record that the refusal of this (just recorded) invoice was overridden."""
        invoice = self._invoice(invoice_id)
        self.trigger_event(self.CreditOverridden, invoice_id=invoice_id,
                           amount=invoice.amount, overridden_on=invoice.issued_on,
                           reasons=list(reasons), override_reason=override_reason,
                           overridden_by=overridden_by)

    class DeliveryConfirmed(Fact):
        """The goods were received, proven by a signed receipt (回单签收)."""

        TOPIC = "huikuan:Account.DeliveryConfirmed"
        KIND = "delivery"
        ID_FIELD = "invoice_id"
        REQUEST_FIELDS = ("invoice_id", "delivered_on", "receipt_ref", "signed_by")
        DATE_FIELD = "delivered_on"
        INVOICE_FIELD = "invoice_id"
        invoice_id: str
        delivered_on: date
        receipt_ref: str | None
        signed_by: str | None

        def apply(self, account: AccountState) -> None:
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

    # ---- credit notes and write-offs

    class CreditNoteIssued(Fact):
        """An allowance (折让) reduced an invoice."""

        TOPIC = "huikuan:Account.CreditNoteIssued"
        KIND = "credit_note"
        ID_FIELD = "credit_note_id"
        REQUEST_FIELDS = ("credit_note_id", "invoice_id", "amount", "issued_on", "reason")
        DATE_FIELD = "issued_on"
        INVOICE_FIELD = "invoice_id"
        credit_note_id: str
        invoice_id: str
        amount: Decimal
        issued_on: date
        reason: str | None

        def apply(self, account: AccountState) -> None:
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

    class WrittenOff(Fact):
        """Part or all of an invoice was written off (核销); the claim stays on record.

        Version 1 made the whole invoice ``dead`` whatever part was written off; those
        records keep that meaning (``marks_dead``). From version 2 a write-off changes
        no class itself: the classes plugin decides the invoice's schedule again (only
        one written off in full is ``dead``, a part keeps the class of what is open)."""

        TOPIC = "huikuan:Account.WrittenOff"
        class_version = 2
        KIND = "write_off"
        ID_FIELD = "write_off_id"
        REQUEST_FIELDS = ("write_off_id", "invoice_id", "amount", "written_off_on", "reason")
        DATE_FIELD = "written_off_on"
        INVOICE_FIELD = "invoice_id"
        write_off_id: str
        invoice_id: str
        amount: Decimal
        written_off_on: date
        reason: str | None
        marks_dead: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["marks_dead"] = True

        def apply(self, account: AccountState) -> None:
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
            if self.marks_dead:
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
        return self._record(self.WrittenOff, marks_dead=False, **fields)


def _mark_delivered(invoice: Invoice, delivery: dict[str, Any]) -> None:
    invoice.delivered_on = delivery["delivered_on"]
    invoice.receipt_ref = delivery["receipt_ref"]
    invoice.signed_by = delivery["signed_by"]
