"""Hand-offs as cases (移交), their progress, collection costs (催收成本) and guarantees (担保).

A hand-off gives the claim on some invoices (without a list, every invoice then open)
to an agency, a lawyer, a suit, an arbitration or the company's own legal department.
The case's updates follow it to its end. A suit or arbitration filed, at the hand-off
(``filed_on``) or by an update with status ``filed``, is recorded in ``filings``, from
which the limitation plugin restarts the period (art. 195); what the ladder does with
a case (it leaves its invoices alone until the case is ``returned``) is the policy's.
``recovered_amount`` is what the party reports: information only, the money itself
comes in as a payment (``POST …/payments``), as every payment does.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from huikuan.core.account.events import Fact
from huikuan.core.account.records import derived_id
from huikuan.core.account.state import AccountState
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.money import money, zero


def filing_kind(to: str) -> str:
    """What a filing on a case handed to ``to`` is: an arbitration applied for, or a suit
    filed (by the litigation team, a lawyer or the legal department)."""
    return "arbitration" if to == "arbitration" else "litigation"


class Cases(AccountState):
    """Hand-offs and their updates, collection costs and guarantees: the case file's
    legal side."""

    class HandedOff(Fact):
        """The claim on ``covered_invoice_ids`` was handed to ``to`` (a ``party``)."""

        TOPIC = "huikuan:Account.HandedOff"
        KIND = "handoff"
        ID_FIELD = "handoff_id"
        REQUEST_FIELDS = ("handoff_id", "to", "handed_on", "party", "invoice_ids",
                          "reference", "filed_on", "message_id")
        DATE_FIELD = "handed_on"
        handoff_id: str
        to: str
        handed_on: date
        party: str | None
        invoice_ids: list[str] | None
        reference: str | None
        filed_on: date | None
        message_id: str | None
        """The hand-off review task whose proposal this hand-off accepts, if any."""
        covered_invoice_ids: list[str]
        filing: str | None
        """``litigation`` or ``arbitration`` when ``filed_on`` records a filing."""

        def invoices_changed(self, account: AccountState) -> Collection[str] | None:
            # A filing may move their limitation deadlines; otherwise no invoice changes.
            return self.covered_invoice_ids if self.filing else ()

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            account.cases = {**account.cases, self.handoff_id: {
                "handoff_id": self.handoff_id, "to": self.to, "handed_on": self.handed_on,
                "party": self.party, "invoice_ids": list(self.covered_invoice_ids),
                "reference": self.reference, "message_id": self.message_id,
                "status": "filed" if self.filed_on else "handed_off", "case_number": None,
                "filed_on": self.filed_on, "recovered": zero(account.currency),
                "returned_on": None, "updated_on": None, "note": None,
            }}
            if self.filing and self.filed_on:
                _add_filing(account, self.filing, self.filed_on, self.covered_invoice_ids,
                            self.handoff_id)

    def hand_off(
        self,
        *,
        handoff_id: str,
        to: str,
        handed_on: date,
        party: str | None = None,
        invoice_ids: list[str] | None = None,
        reference: str | None = None,
        filed_on: date | None = None,
        message_id: str | None = None,
    ) -> bool:
        """Hand the claim on some invoices (None: all then open) to a party. False if
        it repeats a hand-off recorded."""
        fields: dict[str, Any] = {
            "handoff_id": handoff_id, "to": to, "handed_on": handed_on, "party": party,
            "invoice_ids": sorted(set(invoice_ids)) if invoice_ids else None,
            "reference": reference, "filed_on": filed_on, "message_id": message_id,
        }
        if self._is_repeat(self.HandedOff, fields):
            return False
        if filed_on is not None:
            if to == "agency":
                msg = ("an agency files no suit: hand the case to litigation or arbitration "
                       "to record a filing")
                raise InvalidCommand(msg, field="filed_on")
            if filed_on < handed_on:
                msg = f"filed_on {filed_on} is before the case was handed off ({handed_on})"
                raise InvalidCommand(msg, field="filed_on")
        if message_id is not None:
            self._check_proposal(message_id)
        covered = self._handed_invoices(invoice_ids, handed_on)
        return self._record(self.HandedOff, covered_invoice_ids=covered,
                            filing=filing_kind(to) if filed_on else None, **fields)

    def _check_proposal(self, message_id: str) -> None:
        message = self.messages.get(message_id)
        if message is None:
            raise NotFound(f"no message {message_id!r} on this account", field="message_id")
        if message.kind != "handoff_review":
            msg = f"message {message_id!r} is a {message.kind}, not a hand-off review"
            raise InvalidCommand(msg, field="message_id")
        for case in self.cases.values():
            if case["message_id"] == message_id:
                msg = f"the proposal of {message_id!r} was accepted as {case['handoff_id']!r}"
                raise Conflict(msg, field="message_id")

    def _handed_invoices(self, invoice_ids: list[str] | None, handed_on: date) -> list[str]:
        """The invoices a hand-off covers: those named, each open and with no other
        party; without a list, every invoice open on ``handed_on`` with no party."""
        with_party = {i: c["handoff_id"] for c in self.cases.values()
                      if c["returned_on"] is None for i in c["invoice_ids"]}
        if not invoice_ids:
            covered = [i.invoice_id for i in self.open_invoices()
                       if i.issued_on <= handed_on and i.invoice_id not in with_party]
            if not covered:
                msg = "nothing open on this account is left to hand off"
                raise InvalidCommand(msg, field="invoice_ids")
            return covered
        for n, invoice_id in enumerate(invoice_ids):
            invoice = self._invoice(invoice_id, field=f"invoice_ids[{n}]")
            self._not_before_issue(invoice, handed_on, "handed_on")
            if invoice.open_amount <= 0:
                msg = f"invoice {invoice_id!r} has nothing open to hand off"
                raise InvalidCommand(msg, field=f"invoice_ids[{n}]")
            if invoice_id in with_party:
                msg = f"invoice {invoice_id!r} is already handed off ({with_party[invoice_id]!r})"
                raise Conflict(msg, field=f"invoice_ids[{n}]")
        return sorted(set(invoice_ids))

    class HandoffUpdated(Fact):
        """A case moved on: accepted, filed, heard, judged, enforced, settled, closed or
        returned (its invoices back to the ladder)."""

        TOPIC = "huikuan:Account.HandoffUpdated"
        KIND = "handoff_update"
        ID_FIELD = "update_id"
        REQUEST_FIELDS = ("update_id", "handoff_id", "on", "status", "note", "case_number",
                          "recovered_amount")
        DATE_FIELD = "on"
        update_id: str
        handoff_id: str
        on: date
        status: str
        note: str | None
        case_number: str | None
        recovered_amount: Decimal | None
        filing: str | None
        """``litigation`` or ``arbitration`` when the update records a filing."""

        def invoices_changed(self, account: AccountState) -> Collection[str] | None:
            case = account.cases.get(self.handoff_id)
            return list(case["invoice_ids"]) if self.filing and case else ()

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            case = account.cases.get(self.handoff_id)
            if case is None:  # not in a history as of a date before the hand-off
                return
            changed: dict[str, Any] = {"status": self.status, "updated_on": self.on}
            if self.case_number is not None:
                changed["case_number"] = self.case_number
            if self.note is not None:
                changed["note"] = self.note
            if self.recovered_amount is not None:
                changed["recovered"] = case["recovered"] + self.recovered_amount
            if self.status == "returned":
                changed["returned_on"] = self.on
            if self.filing:
                changed["filed_on"] = self.on
                _add_filing(account, self.filing, self.on, case["invoice_ids"],
                            self.handoff_id)
            account.cases = {**account.cases, self.handoff_id: {**case, **changed}}

    def update_handoff(
        self,
        *,
        handoff_id: str,
        on: date,
        status: str,
        note: str | None = None,
        case_number: str | None = None,
        recovered_amount: Decimal | str | int | None = None,
        update_id: str | None = None,
    ) -> bool:
        """Record a case's progress. False if it repeats an update recorded."""
        case = self.cases.get(handoff_id)
        if case is None:
            raise NotFound(f"no hand-off {handoff_id!r} on this account", field="handoff_id")
        fields = self._update_fields(handoff_id=handoff_id, on=on, status=status, note=note,
                                     case_number=case_number,
                                     recovered_amount=recovered_amount, update_id=update_id)
        if self._is_repeat(self.HandoffUpdated, fields):
            return False
        if case["returned_on"] is not None:
            msg = (f"case {handoff_id!r} was returned on {case['returned_on']}; hand the "
                   "invoices off again under a new handoff_id")
            raise Conflict(msg, field="handoff_id")
        if on < case["handed_on"]:
            msg = f"on {on} is before the case was handed off ({case['handed_on']})"
            raise InvalidCommand(msg, field="on")
        if status == "filed" and case["to"] == "agency":
            msg = "an agency files no suit: hand the case to litigation or arbitration"
            raise InvalidCommand(msg, field="status")
        filing = filing_kind(case["to"]) if status == "filed" else None
        return self._record(self.HandoffUpdated, filing=filing, **fields)

    def _update_fields(self, *, handoff_id: str, on: date, status: str, note: str | None,
                       case_number: str | None,
                       recovered_amount: Decimal | str | int | None,
                       update_id: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "handoff_id": handoff_id, "on": on, "status": status, "note": note,
            "case_number": case_number,
            "recovered_amount": None if recovered_amount is None
            else self._money(recovered_amount, field="recovered_amount"),
        }
        # Without an id of the client's, the update is known by its content.
        fields["update_id"] = update_id or derived_id("handoff_update", fields)
        return fields

    def handoff_update_id(self, **request: Any) -> str:
        """The id an update of a case is recorded under (the client's, or the one its
        content gives)."""
        return str(self._update_fields(**request)["update_id"])

    class CostRecorded(Fact):
        """Money spent on collecting (催收成本): postage, calls, travel, an agency's or a
        lawyer's fee, court fees. ``collector`` is the account's when it was recorded."""

        TOPIC = "huikuan:Account.CostRecorded"
        KIND = "cost"
        ID_FIELD = "cost_id"
        REQUEST_FIELDS = ("cost_id", "amount", "currency", "incurred_on", "kind",
                          "handoff_id", "note")
        DATE_FIELD = "incurred_on"
        CHANGES_INVOICES = False
        cost_id: str
        amount: Decimal
        currency: str
        incurred_on: date
        kind: str
        handoff_id: str | None
        note: str | None
        collector: str | None

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            account.costs = {**account.costs, self.cost_id: {
                "cost_id": self.cost_id, "amount": self.amount, "currency": self.currency,
                "incurred_on": self.incurred_on, "kind": self.kind,
                "handoff_id": self.handoff_id, "note": self.note, "collector": self.collector,
            }}

    def record_cost(
        self,
        *,
        cost_id: str,
        amount: Decimal | str | int,
        currency: str,
        incurred_on: date,
        kind: str,
        handoff_id: str | None = None,
        note: str | None = None,
    ) -> bool:
        """Record a collection cost, in any currency (a fee is paid in the currency it
        is charged in, which need not be the account's). False if a repeat."""
        fields: dict[str, Any] = {
            "cost_id": cost_id, "amount": money(amount, currency), "currency": currency,
            "incurred_on": incurred_on, "kind": kind, "handoff_id": handoff_id, "note": note,
        }
        if self._is_repeat(self.CostRecorded, fields):
            return False
        if handoff_id is not None and handoff_id not in self.cases:
            raise NotFound(f"no hand-off {handoff_id!r} on this account", field="handoff_id")
        return self._record(self.CostRecorded, collector=self.collector, **fields)

    class GuaranteeRecorded(Fact):
        """A guarantee (担保) for the debt, in the case file: a person's, a company's, a
        pledge or a mortgage, up to ``amount`` (None: not limited)."""

        TOPIC = "huikuan:Account.GuaranteeRecorded"
        KIND = "guarantee"
        ID_FIELD = "guarantee_id"
        REQUEST_FIELDS = ("guarantee_id", "kind", "given_on", "guarantor", "amount",
                          "document_ref")
        DATE_FIELD = "given_on"
        CHANGES_INVOICES = False
        guarantee_id: str
        kind: str
        given_on: date
        guarantor: str
        amount: Decimal | None
        document_ref: str | None

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            account.guarantees = {**account.guarantees, self.guarantee_id: {
                "guarantee_id": self.guarantee_id, "kind": self.kind,
                "given_on": self.given_on, "guarantor": self.guarantor,
                "amount": self.amount, "document_ref": self.document_ref,
            }}

    def record_guarantee(
        self,
        *,
        guarantee_id: str,
        kind: str,
        given_on: date,
        guarantor: str,
        amount: Decimal | str | int | None = None,
        document_ref: str | None = None,
    ) -> bool:
        """Record a guarantee, its amount in the account's currency. False if a repeat."""
        fields: dict[str, Any] = {
            "guarantee_id": guarantee_id, "kind": kind, "given_on": given_on,
            "guarantor": guarantor,
            "amount": None if amount is None else self._money(amount),
            "document_ref": document_ref,
        }
        if self._is_repeat(self.GuaranteeRecorded, fields):
            return False
        return self._record(self.GuaranteeRecorded, **fields)


def _add_filing(account: AccountState, kind: str, filed_on: date, invoice_ids: list[str],
                handoff_id: str) -> None:
    account.filings = [*account.filings, {"kind": kind, "filed_on": filed_on,
                                          "invoice_ids": list(invoice_ids),
                                          "handoff_id": handoff_id}]
