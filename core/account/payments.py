"""Payments: money received, bounced, allocated to invoices, and credit waiting (回款)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from huikuan.core.account.charges import Charges
from huikuan.core.account.events import Event, Fact
from huikuan.core.account.records import Invoice, Payment
from huikuan.core.account.state import AccountState
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.money import ZERO, zero


class Payments(AccountState):
    """Money in: how it is allocated, what a bounce reopens, credit applied later."""

    class CreditApplied(Event):
        """Unapplied credit from an earlier payment settled part of a new invoice."""

        TOPIC = "huikuan:Account.CreditApplied"
        DATE_FIELD = "applied_on"
        INVOICE_FIELD = "invoice_id"
        payment_id: str
        invoice_id: str
        amount: Decimal
        applied_on: date

        def apply(self, account: AccountState) -> None:
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

    class RecoveryReceived(Event):
        """Part of a payment settled money written off before (a recovery, 核销后收回):
        the invoice stays written off, the money is counted as recovered."""

        TOPIC = "huikuan:Account.RecoveryReceived"
        DATE_FIELD = "received_on"
        INVOICE_FIELD = "invoice_id"
        payment_id: str
        invoice_id: str
        amount: Decimal
        received_on: date

        def apply(self, account: AccountState) -> None:
            payment = account.payments[self.payment_id]
            payment.recovered[self.invoice_id] = (
                payment.recovered.get(self.invoice_id, ZERO) + self.amount)
            account.invoices[self.invoice_id].recovered += self.amount

    def recoverable(self, invoice: Invoice, on: date) -> Decimal:
        """What a payment received on ``on`` may still recover of the invoice: what was
        written off by that day less everything recovered of it so far (so no date
        ever shows more recovered than written off)."""
        written_off = sum((w["amount"] for w in self.write_offs.values()
                           if w["invoice_id"] == invoice.invoice_id
                           and w["written_off_on"] <= on), ZERO)
        return max(written_off - invoice.recovered, ZERO)

    class PaymentReceived(Fact):
        """Money came in. ``allocations`` is how it was applied, decided when recorded."""

        TOPIC = "huikuan:Account.PaymentReceived"
        KIND = "payment"
        ID_FIELD = "payment_id"
        REQUEST_FIELDS = (
            "payment_id", "amount", "received_on", "method", "requested_allocations",
        )
        DATE_FIELD = "received_on"
        payment_id: str
        amount: Decimal
        received_on: date
        method: str | None
        requested_allocations: list[dict[str, Any]] | None
        allocations: list[dict[str, Any]]
        unapplied: Decimal

        def invoices_changed(self, account: AccountState) -> Collection[str] | None:
            return [a["invoice_id"] for a in self.allocations]

        def apply(self, account: AccountState) -> None:
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
        fees: list[dict[str, Any]] = []
        interest: list[dict[str, Any]] = []
        if requested:
            applied, recovered = self._check_allocations(requested, amount, received_on)
        else:
            if self.settle_order == "costs_interest_principal":
                fees, interest = self._charges_first(amount, received_on)
            charged = sum((c["amount"] for c in (*fees, *interest)), ZERO)
            applied, recovered = self._allocate_oldest_first(amount - charged, received_on)
        unapplied = (amount - sum((a["amount"] for a in applied), ZERO)
                     - sum((a["amount"] for a in recovered), ZERO)
                     - sum((c["amount"] for c in (*fees, *interest)), ZERO))
        self._record(self.PaymentReceived, allocations=applied, unapplied=unapplied, **fields)
        if fees or interest:
            self.trigger_event(Charges.ChargesSettled, payment_id=payment_id,
                               settled_on=received_on, fees=fees, interest=interest)
        for recovery in recovered:
            self.trigger_event(self.RecoveryReceived, payment_id=payment_id,
                               invoice_id=recovery["invoice_id"], amount=recovery["amount"],
                               received_on=received_on)
        return True

    def _charges_first(self, amount: Decimal, received_on: date
                       ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Civil Code art. 561: a payment that does not cover everything settles the
        costs (the fees owed, oldest first), then the interest (oldest due invoice
        first), then the principal. What each takes is decided here, when the payment is
        recorded, from the charges owed on its day (core.interest)."""
        from huikuan.core.interest import fees_owed, interest_owed

        remaining = amount
        fees = []
        # What is owed on the payment's day, less what any payment not bounced settled,
        # whatever its date: a payment dated earlier never settles a charge again.
        for fee in sorted(fees_owed(self, received_on, settled_ever=True),
                          key=lambda f: (f["charged_on"], f["fee_id"])):
            take = min(fee["owed"], remaining)
            if take > 0:
                fees.append({"fee_id": fee["fee_id"], "amount": take})
                remaining -= take
        interest = []
        for invoice in sorted(self.invoices.values(),
                              key=lambda i: (i.due_on, i.issued_on, i.invoice_id)):
            take = min(interest_owed(self, invoice.invoice_id, received_on, settled_ever=True),
                       remaining)
            if take > 0:
                interest.append({"invoice_id": invoice.invoice_id, "amount": take})
                remaining -= take
        return fees, interest

    def _check_allocations(
        self, requested: list[dict[str, Any]], amount: Decimal, received_on: date
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """What each named invoice takes: what is open on it first, then what was written
        off of it (a recovery), never more."""
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
            recoverable = self.recoverable(invoice, received_on)
            if per_invoice[invoice.invoice_id] > room + recoverable:
                msg = (
                    f"allocation to invoice {invoice.invoice_id!r} exceeds its open "
                    f"amount {room}"
                    + (f" and the {recoverable} written off that it may recover"
                       if recoverable else "")
                )
                raise InvalidCommand(msg, field=f"allocations[{n}].amount")
        if sum(per_invoice.values(), ZERO) > amount:
            raise InvalidCommand(
                "allocations add up to more than the payment", field="allocations"
            )
        applied, recovered = [], []
        for invoice_id, part in per_invoice.items():
            settles = min(part, self.invoices[invoice_id].room_from(received_on))
            if settles > 0:
                applied.append({"invoice_id": invoice_id, "amount": settles})
            if part > settles:
                recovered.append({"invoice_id": invoice_id, "amount": part - settles})
        return applied, recovered

    def _allocate_oldest_first(
        self, amount: Decimal, received_on: date
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        # Undisputed money first, oldest due first (先把没有争议的部分货款支付给我们);
        # then the disputed parts; then money written off (the claim stays on record:
        # a recovery), oldest due first; anything left stays as unapplied credit.
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
        recovered = []
        if remaining > 0 and self.write_offs:
            written_off = {w["invoice_id"] for w in self.write_offs.values()}
            for invoice in sorted((self.invoices[i] for i in written_off),
                                  key=lambda i: (i.due_on, i.issued_on, i.invoice_id)):
                take = min(remaining, self.recoverable(invoice, received_on))
                if take > 0:
                    recovered.append({"invoice_id": invoice.invoice_id, "amount": take})
                    remaining -= take
        return [{"invoice_id": i, "amount": a} for i, a in applied.items()], recovered

    class PaymentBounced(Fact):
        """The payment failed (银行退票): what it settled is open again."""

        TOPIC = "huikuan:Account.PaymentBounced"
        KIND = "bounce"
        ID_FIELD = "payment_id"
        REQUEST_FIELDS = ("payment_id", "bounced_on", "reason")
        DATE_FIELD = "bounced_on"
        payment_id: str
        bounced_on: date
        reason: str | None
        reversed_allocations: list[dict[str, Any]]
        unapplied_removed: Decimal

        def invoices_changed(self, account: AccountState) -> Collection[str] | None:
            payment = account.payments[self.payment_id]
            return [*payment.allocations, *payment.recovered]

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            payment = account.payments[self.payment_id]
            # Undo what the payment settles now (the event lists the same for the record).
            for invoice_id, amount in payment.allocations.items():
                if invoice_id in account.invoices:
                    account.invoices[invoice_id].paid -= amount
                    account.invoices[invoice_id].move(self.bounced_on, amount)
                    account._track(account.invoices[invoice_id])
            payment.allocations = {}
            # What it settled of fees and interest (ChargesSettled) is owed again.
            settlement = account.charge_settlements.get(self.payment_id)
            if settlement is not None:
                account.charge_settlements = {**account.charge_settlements, self.payment_id: {
                    **settlement, "bounced_on": self.bounced_on}}
            # And what it recovered of money written off (RecoveryReceived) is not.
            for invoice_id, amount in payment.recovered.items():
                account.invoices[invoice_id].recovered -= amount
            payment.recovered = {}
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
