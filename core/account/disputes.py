"""Disputes: the part of an invoice the customer contests, and how it ended (争议)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from huikuan.core.account.events import Fact
from huikuan.core.account.records import Dispute
from huikuan.core.account.state import AccountState
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.money import zero


class Disputes(AccountState):
    """Contested amounts: raised against an invoice, resolved as rejected or credited."""

    class DisputeRaised(Fact):
        """The customer contests part or all of an invoice."""

        TOPIC = "huikuan:Account.DisputeRaised"
        KIND = "dispute"
        ID_FIELD = "dispute_id"
        REQUEST_FIELDS = ("dispute_id", "invoice_id", "amount", "raised_on", "reason")
        DATE_FIELD = "raised_on"
        INVOICE_FIELD = "invoice_id"
        dispute_id: str
        invoice_id: str
        amount: Decimal
        raised_on: date
        reason: str | None

        def apply(self, account: AccountState) -> None:
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
        DATE_FIELD = "resolved_on"
        dispute_id: str
        resolved_on: date
        outcome: str
        credited_amount: Decimal

        def invoices_changed(self, account: AccountState) -> Collection[str] | None:
            return (account.disputes[self.dispute_id].invoice_id,)

        def apply(self, account: AccountState) -> None:
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
