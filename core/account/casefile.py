"""The case file: contacts, promises, payment plans, acknowledgments, risk signals."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from huikuan.core.account.events import Fact
from huikuan.core.account.records import ContactRecord, PaymentPlan, Promise, derived_id
from huikuan.core.account.state import AccountState
from huikuan.core.errors import InvalidCommand
from huikuan.core.money import ZERO


class CaseFile(AccountState):
    """What collectors record about the customer besides money (专案档案)."""

    class ContactLogged(Fact):
        """A contact with the customer: channel, direction, outcome, evidence."""

        TOPIC = "huikuan:Account.ContactLogged"
        KIND = "contact"
        ID_FIELD = "contact_id"
        REQUEST_FIELDS = (
            "contact_id", "occurred_at", "channel", "direction", "outcome", "note",
            "evidence_ref", "collector",
        )
        DATE_FIELD = "contact_date"
        CHANGES_INVOICES = False
        contact_id: str
        occurred_at: datetime
        contact_date: date
        channel: str
        direction: str
        outcome: str
        note: str | None
        evidence_ref: str | None
        collector: str | None

        def apply(self, account: AccountState) -> None:
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
        DATE_FIELD = "made_on"
        CHANGES_INVOICES = False
        promise_id: str
        amount: Decimal
        due_on: date
        made_on: date
        written: bool
        document_ref: str | None

        def apply(self, account: AccountState) -> None:
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
        DATE_FIELD = "agreed_on"
        CHANGES_INVOICES = False
        plan_id: str
        agreed_on: date
        installments: list[dict[str, Any]]

        def apply(self, account: AccountState) -> None:
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
        DATE_FIELD = "acknowledged_on"
        acknowledgment_id: str
        acknowledged_on: date
        document_ref: str | None
        invoice_ids: list[str] | None
        covered_invoice_ids: list[str]

        def invoices_changed(self, account: AccountState) -> Collection[str] | None:
            return self.covered_invoice_ids

        def apply(self, account: AccountState) -> None:
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
        DATE_FIELD = "observed_on"
        CHANGES_INVOICES = False
        signal_id: str
        signal: str
        observed_on: date
        note: str | None

        def apply(self, account: AccountState) -> None:
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
