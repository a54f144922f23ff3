"""Printed documents: a written demand as the letter that goes (or went) out, a statement.

The figures come from :mod:`huikuan.core.documents`; the PDF from the document plugins
(``huikuan_render_letter``, ``huikuan_render_statement``). The dispatcher prints a letter
when it sends one (the letter channel writes it, e-mail attaches it); the API and the
command line print it again on request, from the account as it stood on its day, with the
text that was sent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from huikuan.core.account import Account, account_id
from huikuan.core.account.records import Message
from huikuan.core.clock import today_in
from huikuan.core.documents import Statement, company_of, letter_of, statement_of
from huikuan.core.errors import NotFound
from huikuan.core.ledger import Ledger
from huikuan.core.policy import PolicyHost

WRITTEN = ("notice", "warning", "lawyer_letter")
"""The written demands (预告、警告、律师函): printed as letters on the letterhead."""


def queued_deadline(ledger: Ledger, customer_id: str, message_id: str) -> date | None:
    """The deadline the demand was queued with (its ``MessageQueued``)."""
    for event in ledger.events.get(account_id(customer_id), desc=True):
        if isinstance(event, Account.MessageQueued) and event.message_id == message_id:
            deadline: date | None = event.deadline
            return deadline
    return None


def _sent_recorded_at(ledger: Ledger, customer_id: str, message_id: str) -> datetime | None:
    """When the ledger recorded the message sent (its ``MessageSent``)."""
    for event in ledger.events.get(account_id(customer_id), desc=True):
        if isinstance(event, Account.MessageSent) and event.message_id == message_id:
            at: datetime = event.timestamp
            return at
    return None


def render_letter(host: PolicyHost, account: Any, message: Message, *, dated: date,
                  deadline: date | None, sent: bool) -> bytes:
    """The PDF of ``message`` (with its text as given) from ``account`` as of ``dated``."""
    letter = letter_of(account, message.message_id, dated=dated, deadline=deadline,
                       company=company_of(host.settings), sent=sent, message=message)
    found = host.first("huikuan_render_letter", letter=letter)
    if found is None:
        raise NotFound("no plugin prints letters (huikuan_render_letter)", field="message_id")
    document: bytes = found[0]
    return document


def letter_for(ledger: Ledger, host: PolicyHost, customer_id: str, message_id: str,
               today: date) -> tuple[bytes, Message]:
    """The letter of a written demand as sent, dated the day it was sent (in the
    customer's time zone), with the text that was sent; a demand not sent yet is a
    draft dated ``today``."""
    account = ledger.account(customer_id)
    message = account.messages.get(message_id)
    if message is None:
        raise NotFound(f"no message {message_id!r}", field="message_id")
    if message.kind not in WRITTEN:
        raise NotFound(f"message {message_id!r} is a {message.kind}, not a written demand "
                       f"({', '.join(WRITTEN)})", field="message_id")
    recorded_at = _sent_recorded_at(ledger, customer_id, message_id)
    if message.status == "sent" and message.sent_at is not None and recorded_at:
        # Exactly as the ledger knew the account when the letter went (the figures a
        # fact recorded later with an earlier date would change are not the letter's).
        then: Any = ledger.account_as_recorded(customer_id, recorded_at)
        dated, sent = today_in(account.timezone, message.sent_at), True
    else:
        then, dated, sent = account, today, False
    document = render_letter(host, then, message, dated=dated, sent=sent,
                             deadline=queued_deadline(ledger, customer_id, message_id))
    return document, message


def statement_for(ledger: Ledger, host: PolicyHost, customer_id: str, as_of: date,
                  from_on: date | None) -> Statement:
    """The statement of account through ``as_of``, from ``from_on`` (default: the first
    day of the month 11 months before, a year of movements)."""
    start = from_on or (as_of.replace(day=1) - timedelta(days=335)).replace(day=1)
    end = ledger.account_as_of(customer_id, as_of)
    try:
        before = ledger.account_as_of(customer_id, start - timedelta(days=1))
    except NotFound:
        before = None
    events = list(ledger.events.get(account_id(customer_id)))
    return statement_of(before, end, from_on=start, as_of=as_of, events=events,
                        company=company_of(host.settings))


def render_statement(host: PolicyHost, statement: Statement) -> bytes:
    found = host.first("huikuan_render_statement", statement=statement)
    if found is None:
        raise NotFound("no plugin prints statements (huikuan_render_statement)",
                       field="format")
    document: bytes = found[0]
    return document
