"""Late interest terms, fees per step (催收费) and their waivers (减免).

The interest plugin's terms (rates by date) are recorded on the account by the cycle
(``InterestTermsSet``), so every view accrues interest day by day through the day it
shows from the account alone (:mod:`huikuan.core.interest`). A step's fee is recorded
when the account enters the step (``FeeCharged``). A manager may waive a fee, or some of
an invoice's interest (the seeds' 减免利息, offered for payment in full): each is a fact
of its own with its reason, and the figures before it never change.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from huikuan.core.account.events import Decision, Event, Fact
from huikuan.core.account.state import AccountState
from huikuan.core.errors import Conflict, InvalidCommand, NotFound


class Charges(AccountState):
    """Interest terms, fees and waivers."""

    class InterestTermsSet(Decision):
        """The late-interest rates the account is held to from now on: ``rates`` is
        [[from (ISO date), annual rate], …], earliest first; empty: no interest."""

        TOPIC = "huikuan:Account.InterestTermsSet"
        CHANGES_INVOICES = False
        rates: list[list[str]]
        settle: str
        """What a payment naming no invoices settles first (``InterestTerms.settle``)."""

        def apply(self, account: AccountState) -> None:
            # Lists, as a snapshot keeps them (a tuple would read back unequal).
            account.interest_rates = [[r[0], r[1]] for r in self.rates]
            account.settle_order = self.settle

    class ChargesSettled(Event):
        """Under Civil Code art. 561's order, part of a payment naming no invoices settled
        fees (``fees``: [{fee_id, amount}]) and interest (``interest``: [{invoice_id,
        amount}]) before any principal, decided when the payment was recorded. A bounce
        of the payment undoes it."""

        TOPIC = "huikuan:Account.ChargesSettled"
        DATE_FIELD = "settled_on"
        CHANGES_INVOICES = False
        payment_id: str
        settled_on: date
        fees: list[dict[str, Any]]
        interest: list[dict[str, Any]]

        def apply(self, account: AccountState) -> None:
            account.charge_settlements = {**account.charge_settlements, self.payment_id: {
                "on": self.settled_on, "bounced_on": None,
                "fees": {f["fee_id"]: f["amount"] for f in self.fees},
                "interest": {i["invoice_id"]: i["amount"] for i in self.interest},
            }}

    class FeeCharged(Decision):
        """A fee charged on the account as it entered ``stage``, in its currency."""

        TOPIC = "huikuan:Account.FeeCharged"
        CHANGES_INVOICES = False
        fee_id: str
        amount: Decimal
        stage: str

        def apply(self, account: AccountState) -> None:
            account.fees = {**account.fees, self.fee_id: {
                "fee_id": self.fee_id, "amount": self.amount, "stage": self.stage,
                "charged_on": self.decided_on, "waived_on": None, "reason": None,
            }}

    class FeeWaived(Fact):
        """A fee waived from ``waived_on`` on, for ``reason``."""

        TOPIC = "huikuan:Account.FeeWaived"
        KIND = "fee_waiver"
        ID_FIELD = "fee_id"
        REQUEST_FIELDS = ("fee_id", "waived_on", "reason")
        DATE_FIELD = "waived_on"
        CHANGES_INVOICES = False
        fee_id: str
        waived_on: date
        reason: str | None

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            fee = account.fees.get(self.fee_id)
            if fee is None:  # not in a history as of a date before it was charged
                return
            account.fees = {**account.fees, self.fee_id: {
                **fee, "waived_on": self.waived_on, "reason": self.reason}}

    def waive_fee(self, *, fee_id: str, waived_on: date, reason: str | None = None) -> bool:
        """Waive a fee charged before. False if it repeats the waiver recorded."""
        fee = self.fees.get(fee_id)
        if fee is None:
            raise NotFound(f"no fee {fee_id!r} on this account", field="fee_id")
        fields: dict[str, Any] = {"fee_id": fee_id, "waived_on": waived_on, "reason": reason}
        if self._is_repeat(self.FeeWaived, fields):
            return False
        if waived_on < fee["charged_on"]:
            msg = f"waived_on {waived_on} is before the fee was charged ({fee['charged_on']})"
            raise InvalidCommand(msg, field="waived_on")
        return self._record(self.FeeWaived, **fields)

    class InterestWaived(Fact):
        """Some of an invoice's late interest waived on ``waived_on`` (减免利息)."""

        TOPIC = "huikuan:Account.InterestWaived"
        KIND = "interest_waiver"
        ID_FIELD = "waiver_id"
        REQUEST_FIELDS = ("waiver_id", "invoice_id", "amount", "waived_on", "reason")
        DATE_FIELD = "waived_on"
        CHANGES_INVOICES = False  # the open principal is unchanged
        waiver_id: str
        invoice_id: str
        amount: Decimal
        waived_on: date
        reason: str | None

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            account.interest_waivers = {**account.interest_waivers, self.waiver_id: {
                "waiver_id": self.waiver_id, "invoice_id": self.invoice_id,
                "amount": self.amount, "waived_on": self.waived_on, "reason": self.reason,
            }}

    def waive_interest(self, *, waiver_id: str, invoice_id: str, amount: Decimal | str | int,
                       waived_on: date, reason: str | None = None) -> bool:
        """Waive ``amount`` of the interest owed on an invoice as of ``waived_on``.
        False if it repeats the waiver recorded; never more than is owed then."""
        from huikuan.core.interest import interest_owed

        fields: dict[str, Any] = {
            "waiver_id": waiver_id, "invoice_id": invoice_id,
            "amount": self._money(amount), "waived_on": waived_on, "reason": reason,
        }
        if self._is_repeat(self.InterestWaived, fields):
            return False
        invoice = self._invoice(invoice_id)
        self._not_before_issue(invoice, waived_on, "waived_on")
        owed = interest_owed(self, invoice_id, waived_on)
        if fields["amount"] > owed:
            msg = (f"{fields['amount']} is more than the interest owed on invoice "
                   f"{invoice_id!r} on {waived_on} ({owed})")
            raise Conflict(msg, field="amount")
        return self._record(self.InterestWaived, **fields)
