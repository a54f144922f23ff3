"""What a printed letter and a statement of account (对账单) say, as figures decided here.

Pure: built from an account (as it stood on the document's day) and the company's
letterhead; no clock, no plugin, no I/O. The layout (PDF, the words around the figures)
is the document plugins' (``huikuan_render_letter``, ``huikuan_render_statement``), so a
letter and a statement reproduced later say exactly what they said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from huikuan.core.interest import charges
from huikuan.core.money import ZERO, zero
from huikuan.core.plugin import Settings, address_lines


@dataclass(frozen=True)
class Company:
    """The creditor on the letterhead: ``[company]`` in plugins.toml."""

    name: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    bank_account: str = ""
    """Where to pay: bank, account name and number, as printed."""
    signatory: str = ""


def company_of(settings: Settings) -> Company:
    section = settings.section("company")
    return Company(**{k: str(section.get(k, "")) for k in
                      ("name", "address", "phone", "email", "bank_account", "signatory")})


@dataclass(frozen=True)
class LetterLine:
    """One invoice a demand is about, as it stood on the letter's day."""

    invoice_id: str
    issued_on: date
    due_on: date
    open_amount: Decimal
    disputed: Decimal
    demanded: Decimal
    """Undisputed and open: what the letter asks for."""
    interest: Decimal


@dataclass(frozen=True)
class Letter:
    """A written demand (预告、警告、律师函) as printed on ``dated``."""

    message_id: str
    kind: str
    language: str
    customer_id: str
    customer_name: str
    address: tuple[str, ...]
    """The postal address, line by line in the letter's language's order."""
    dated: date
    subject: str
    body: str
    currency: str
    lines: tuple[LetterLine, ...]
    demanded: Decimal
    interest: Decimal
    fees: Decimal
    deadline: date | None
    company: Company
    sent: bool
    """False: a draft of a letter not sent yet, dated the day it is drawn."""


def letter_of(account: Any, message_id: str, *, dated: date, deadline: date | None,
              company: Company, sent: bool, message: Any) -> Letter:
    """The letter for ``message`` (its text as sent) from ``account`` as of ``dated``."""
    owed = charges(account, dated)
    lines = []
    for invoice_id in message.invoice_ids:
        invoice = account.invoices.get(invoice_id)
        if invoice is None:
            continue
        disputed = account.disputed_amount(invoice)
        lines.append(LetterLine(
            invoice_id=invoice_id, issued_on=invoice.issued_on, due_on=invoice.due_on,
            open_amount=invoice.open_amount, disputed=disputed,
            demanded=max(invoice.open_amount - disputed, ZERO) + zero(account.currency),
            interest=owed["invoice_interest"].get(invoice_id, zero(account.currency))))
    none = zero(account.currency)
    return Letter(
        message_id=message_id, kind=message.kind, language=account.language,
        customer_id=account.customer_id, customer_name=account.name,
        address=tuple(address_lines(account.address, account.language)),
        dated=dated, subject=message.subject, body=message.body, currency=account.currency,
        lines=tuple(lines), demanded=sum((x.demanded for x in lines), none),
        interest=sum((x.interest for x in lines), none), fees=owed["fees"],
        deadline=deadline, company=company, sent=sent)


# ---- statements of account (对账单)


@dataclass(frozen=True)
class StatementLine:
    """A movement of the balance in the period: what, which document, how much (+ owed
    more, − owed less), and the balance after it."""

    on: date
    kind: str
    """invoice, payment, payment_bounced, credit_note, dispute_credited, write_off,
    recovery (money received on what was written off), charges_settled (a payment's part
    that paid fees and interest)."""
    ref: str
    amount: Decimal
    balance: Decimal


@dataclass(frozen=True)
class OpenItem:
    invoice_id: str
    issued_on: date
    due_on: date
    amount: Decimal
    open_amount: Decimal
    disputed: Decimal
    days_overdue: int
    class_: str
    interest: Decimal


@dataclass(frozen=True)
class Statement:
    """The statement of a customer's account from ``from_on`` through ``as_of``."""

    customer_id: str
    customer_name: str
    language: str
    address: tuple[str, ...]
    currency: str
    from_on: date
    as_of: date
    opening_balance: Decimal
    """What the customer owed at the end of the day before ``from_on`` (open invoices less
    credit waiting to be applied)."""
    lines: tuple[StatementLine, ...]
    closing_balance: Decimal
    """The opening balance and every line: what it owed at the end of ``as_of``."""
    open_items: tuple[OpenItem, ...]
    unapplied_credit: Decimal
    interest: Decimal
    fees: Decimal
    company: Company = field(default_factory=Company)

    def figures(self) -> dict[str, Any]:
        """Every figure, as the JSON answer and the recorded statement keep them."""
        return {
            "customer_id": self.customer_id, "customer_name": self.customer_name,
            "currency": self.currency, "from_on": self.from_on, "as_of": self.as_of,
            "opening_balance": self.opening_balance,
            "lines": [{"on": x.on, "kind": x.kind, "ref": x.ref, "amount": x.amount,
                       "balance": x.balance} for x in self.lines],
            "closing_balance": self.closing_balance,
            "open_items": [{"invoice_id": o.invoice_id, "issued_on": o.issued_on,
                            "due_on": o.due_on, "amount": o.amount,
                            "open_amount": o.open_amount, "disputed": o.disputed,
                            "days_overdue": o.days_overdue, "class": o.class_,
                            "interest": o.interest} for o in self.open_items],
            "unapplied_credit": self.unapplied_credit, "interest": self.interest,
            "fees": self.fees,
        }


def recorded(figures: Any) -> Any:
    """Figures as text (dates ISO, amounts plain decimal), as an event keeps them."""
    if isinstance(figures, dict):
        return {k: recorded(v) for k, v in figures.items()}
    if isinstance(figures, list | tuple):
        return [recorded(v) for v in figures]
    if isinstance(figures, Decimal | date):
        return str(figures)
    return figures


def statement_from(kept: dict[str, Any], *, language: str, address: tuple[str, ...],
                   company: Company) -> Statement:
    """The statement a ``StatementIssued`` recorded, exactly as it was issued."""
    d, m = date.fromisoformat, Decimal
    return Statement(
        customer_id=kept["customer_id"], customer_name=kept["customer_name"],
        language=language, address=address, currency=kept["currency"],
        from_on=d(kept["from_on"]), as_of=d(kept["as_of"]),
        opening_balance=m(kept["opening_balance"]),
        lines=tuple(StatementLine(on=d(x["on"]), kind=x["kind"], ref=x["ref"],
                                  amount=m(x["amount"]), balance=m(x["balance"]))
                    for x in kept["lines"]),
        closing_balance=m(kept["closing_balance"]),
        open_items=tuple(OpenItem(invoice_id=o["invoice_id"], issued_on=d(o["issued_on"]),
                                  due_on=d(o["due_on"]), amount=m(o["amount"]),
                                  open_amount=m(o["open_amount"]), disputed=m(o["disputed"]),
                                  days_overdue=int(o["days_overdue"]), class_=o["class"],
                                  interest=m(o["interest"]))
                         for o in kept["open_items"]),
        unapplied_credit=m(kept["unapplied_credit"]), interest=m(kept["interest"]),
        fees=m(kept["fees"]), company=company)


def balance(account: Any) -> Decimal:
    """What the customer owes on the account as it stands: open invoices less credit."""
    return Decimal(account.outstanding - account.unapplied_credit)


def movements(account: Any, events: Any, after: date,
              through: date) -> list[tuple[date, str, str, Decimal]]:
    """(day, kind, ref, amount) of every movement of :func:`balance` in the period.

    Invoices, credit notes, disputes credited and write-offs from the account as it
    stood on ``through``; money in and its undoing from the account's ``events`` as
    recorded (a bounce clears what its payment did from the state): a payment lowers the
    balance by its amount, the parts that recovered money written off or settled fees
    and interest (art. 561) raise it back, and a bounce raises it by what the payment
    still held on invoices and as credit. So the lines add up to the change of the
    balance whatever bounced when.
    """
    found: list[tuple[date, str, str, Decimal]] = []

    def within(day: date | None) -> bool:
        return day is not None and after < day <= through

    for invoice in account.invoices.values():
        if within(invoice.issued_on):
            found.append((invoice.issued_on, "invoice", invoice.invoice_id, invoice.amount))
    for event in events:
        name = type(event).__name__
        if name == "PaymentReceived" and within(event.received_on):
            found.append((event.received_on, "payment", event.payment_id, -event.amount))
        elif name == "RecoveryReceived" and within(event.received_on):
            found.append((event.received_on, "recovery", event.payment_id, event.amount))
        elif name == "ChargesSettled" and within(event.settled_on):
            paid = sum((Decimal(c["amount"]) for c in (*event.fees, *event.interest)), ZERO)
            found.append((event.settled_on, "charges_settled", event.payment_id, paid))
        elif name == "PaymentBounced" and within(event.bounced_on):
            held = sum((Decimal(a["amount"]) for a in event.reversed_allocations), ZERO)
            found.append((event.bounced_on, "payment_bounced", event.payment_id,
                          held + event.unapplied_removed))
    for note in account.credit_notes.values():
        if within(note.issued_on):
            found.append((note.issued_on, "credit_note", note.credit_note_id, -note.amount))
    for dispute in account.disputes.values():
        if within(dispute.resolved_on) and dispute.credited_amount and dispute.resolved_on:
            found.append((dispute.resolved_on, "dispute_credited", dispute.dispute_id,
                          -dispute.credited_amount))
    for write_off in account.write_offs.values():
        if within(write_off["written_off_on"]):
            found.append((write_off["written_off_on"], "write_off", write_off["invoice_id"],
                          -write_off["amount"]))
    return sorted(found, key=lambda m: (m[0], m[1] != "invoice", m[2]))


def statement_of(before: Any, end: Any, *, from_on: date, as_of: date, events: Any = (),
                 company: Company | None = None) -> Statement:
    """The statement from the account as of the day before ``from_on`` (``before``, None
    when the customer was not yet registered) and as of ``as_of`` (``end``), with the
    account's ``events`` for the money that came in (:func:`movements`)."""
    currency = end.currency
    none = zero(currency)
    opening = (balance(before) if before is not None else ZERO) + none
    running = opening
    lines = []
    for on, kind, ref, amount in movements(end, events, from_on - timedelta(days=1), as_of):
        running += amount
        lines.append(StatementLine(on=on, kind=kind, ref=ref, amount=amount + none,
                                   balance=running))
    owed = charges(end, as_of)
    items = tuple(
        OpenItem(invoice_id=i.invoice_id, issued_on=i.issued_on, due_on=i.due_on,
                 amount=i.amount, open_amount=i.open_amount,
                 disputed=end.disputed_amount(i),
                 days_overdue=max(0, (as_of - i.due_on).days),
                 class_=_class_on(i, as_of), interest=owed["invoice_interest"][i.invoice_id])
        for i in sorted(end.invoices.values(), key=lambda i: (i.due_on, i.invoice_id))
        if i.open_amount > 0)
    return Statement(
        customer_id=end.customer_id, customer_name=end.name, language=end.language,
        address=tuple(address_lines(end.address, end.language)),
        currency=currency, from_on=from_on, as_of=as_of, opening_balance=opening,
        lines=tuple(lines), closing_balance=balance(end) + none, open_items=items,
        unapplied_credit=end.unapplied_credit + none, interest=owed["interest"],
        fees=owed["fees"], company=company or Company())


def _class_on(invoice: Any, day: date) -> str:
    from huikuan.core import classes

    found: str = classes.class_of(classes.steps_of(invoice.class_steps), invoice.class_, day,
                                  invoice.settled_on())
    return found
