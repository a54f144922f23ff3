"""Statements of account issued (对账单) and the customer's signed confirmation (对账函).

A statement issued keeps its figures in its event, so it is reproduced exactly whatever
is recorded later. The confirmation the customer signs, seals and returns is the written
acknowledgment that restarts the limitation period (Civil Code art. 195) for each invoice
it confirms, recorded as a ``DebtAcknowledged`` beside it; each difference the customer
states is a dispute on its invoice (``DisputeRaised``), and that invoice keeps its old
deadline.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from huikuan.core.account.events import Fact
from huikuan.core.account.state import AccountState
from huikuan.core.errors import Conflict, DomainError, InvalidCommand, NotFound

MAX_ID = 64


def fitted_id(text: str) -> str:
    """An id made from others, within the 64 characters every id may have: cut, with a
    digest of the whole to keep it unique, when it would be longer."""
    if len(text) <= MAX_ID:
        return text
    return f"{text[:MAX_ID - 13]}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def dispute_id(statement_id: str, invoice_id: str) -> str:
    """The dispute a difference stated on a statement's confirmation raises."""
    return fitted_id(f"{statement_id}-{invoice_id}")


class Statements(AccountState):
    """Statements issued and confirmed."""

    class StatementIssued(Fact):
        """A statement of account from ``from_on`` through ``as_of``, with its figures
        (``core.documents.Statement.figures``, as text) as they were when issued."""

        TOPIC = "huikuan:Account.StatementIssued"
        KIND = "statement"
        ID_FIELD = "statement_id"
        REQUEST_FIELDS = ("statement_id", "as_of", "from_on", "send")
        DATE_FIELD = "as_of"
        CHANGES_INVOICES = False
        statement_id: str
        as_of: date
        from_on: date
        send: bool
        figures: dict[str, Any]

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            account.statements = {**account.statements, self.statement_id: {
                "statement_id": self.statement_id, "as_of": self.as_of,
                "from_on": self.from_on, "figures": self.figures, "confirmation": None,
            }}

    def issue_statement(self, *, statement_id: str, as_of: date, from_on: date, send: bool,
                        figures: dict[str, Any]) -> bool:
        """Record a statement issued with its figures. False if it repeats one."""
        fields: dict[str, Any] = {"statement_id": statement_id, "as_of": as_of,
                                  "from_on": from_on, "send": send}
        if self._is_repeat(self.StatementIssued, fields):
            return False
        if from_on > as_of:
            raise InvalidCommand(f"from {from_on} is after as_of {as_of}", field="from")
        return self._record(self.StatementIssued, figures=figures, **fields)

    def queue_statement(self, *, statement_id: str, decided_on: date, recipient: str | None,
                        subject: str, body: str, amount: Any, plugin: str,
                        plugin_version: str) -> None:
        """Queue the statement to the customer by e-mail (``send``), its PDF attached by
        the dispatcher from the recorded figures: message ``statement-<statement_id>``."""
        account: Any = self  # the outbox is the account's (core.account.delivery)
        message_id = f"statement-{statement_id}"
        if message_id in account.messages:
            return
        account.trigger_event(
            account.MessageQueued, decided_on=decided_on, plugin=plugin,
            plugin_version=plugin_version, based_on={"statement_id": statement_id},
            message_id=message_id, kind="statement", channel="email", recipient=recipient,
            language=self.language, subject=subject, body=body, amount=amount,
            invoice_ids=[], deadline=None)

    class StatementConfirmed(Fact):
        """The customer signed and returned the statement's confirmation slip:
        ``confirmed_invoice_ids`` it confirmed, ``differences`` it stated."""

        TOPIC = "huikuan:Account.StatementConfirmed"
        KIND = "statement_confirmation"
        ID_FIELD = "statement_id"
        REQUEST_FIELDS = ("statement_id", "confirmed_on", "signed_by", "document_ref",
                          "differences")
        DATE_FIELD = "confirmed_on"
        CHANGES_INVOICES = False
        statement_id: str
        confirmed_on: date
        signed_by: str
        document_ref: str | None
        differences: list[dict[str, Any]]
        confirmed_invoice_ids: list[str]

        def apply(self, account: AccountState) -> None:
            super().apply(account)
            statement = account.statements.get(self.statement_id)
            if statement is None:  # not in a history as of a date before it was issued
                return
            account.statements = {**account.statements, self.statement_id: {
                **statement, "confirmation": {
                    "confirmed_on": self.confirmed_on, "signed_by": self.signed_by,
                    "document_ref": self.document_ref, "differences": self.differences,
                    "confirmed_invoice_ids": self.confirmed_invoice_ids}}}

    def confirm_statement(self, *, statement_id: str, confirmed_on: date, signed_by: str,
                          document_ref: str | None = None,
                          differences: list[dict[str, Any]] | None = None) -> bool:
        """Record the confirmation; acknowledge what it confirms, dispute each difference.
        False if it repeats the confirmation recorded."""
        statement = self.statements.get(statement_id)
        if statement is None:
            raise NotFound(f"no statement {statement_id!r} on this account",
                           field="statement_id")
        stated = [{"invoice_id": d["invoice_id"],
                   "amount": self._money(d["amount"], field=f"differences[{n}].amount"),
                   "note": d.get("note")} for n, d in enumerate(differences or ())]
        fields: dict[str, Any] = {"statement_id": statement_id, "confirmed_on": confirmed_on,
                                  "signed_by": signed_by, "document_ref": document_ref,
                                  "differences": stated}
        if self._is_repeat(self.StatementConfirmed, fields):
            return False
        if statement["confirmation"] is not None:
            raise Conflict(f"statement {statement_id!r} was confirmed before",
                           field="statement_id")
        if confirmed_on < statement["as_of"]:
            msg = f"confirmed_on {confirmed_on} is before the statement's date"
            raise InvalidCommand(msg, field="confirmed_on")
        listed = [item["invoice_id"] for item in statement["figures"]["open_items"]]
        named = set()
        for n, difference in enumerate(stated):
            if difference["invoice_id"] not in listed:
                msg = f"invoice {difference['invoice_id']!r} is not an open item of the statement"
                raise InvalidCommand(msg, field=f"differences[{n}].invoice_id")
            if difference["invoice_id"] in named:
                msg = f"invoice {difference['invoice_id']!r} is named twice"
                raise InvalidCommand(msg, field=f"differences[{n}].invoice_id")
            named.add(difference["invoice_id"])
        confirmed = [i for i in listed if i not in named]
        self._record(self.StatementConfirmed, confirmed_invoice_ids=confirmed, **fields)
        account: Any = self  # the whole account: acknowledgments and disputes are its
        if confirmed:
            account.acknowledge_debt(acknowledged_on=confirmed_on, invoice_ids=confirmed,
                                  document_ref=document_ref or f"statement {statement_id}",
                                  acknowledgment_id=fitted_id(f"{statement_id}-confirmed"))
        for n, difference in enumerate(stated):
            try:
                account.raise_dispute(
                    dispute_id=dispute_id(statement_id, difference["invoice_id"]),
                    invoice_id=difference["invoice_id"], amount=difference["amount"],
                    raised_on=confirmed_on,
                    reason=difference["note"] or f"difference stated on statement {statement_id}")
            except DomainError as error:
                raise InvalidCommand(error.message, field=f"differences[{n}].amount") from None
        return True
