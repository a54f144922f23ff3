"""The outbox: queued messages are events; the dispatcher sends them through channels.

A message is sent, then its ``MessageSent`` is recorded, one message at a time. So
a crash loses no message (the queue is in the event store), and at most the one in
flight when the process died goes out again, with the same message id so the
receiving side can tell. Failures are retried with exponential backoff; a message
that may not go now (outside contact hours, too many attempts) is held until it may.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast
from uuid import UUID

import structlog

from huikuan.core.account import Account, account_id
from huikuan.core.account.records import Message
from huikuan.core.actor import DISPATCHER, acting_as
from huikuan.core.clock import today_in
from huikuan.core.cycle import render_message, with_charges
from huikuan.core.documents import company_of, statement_from
from huikuan.core.errors import Tampered
from huikuan.core.ledger import Ledger
from huikuan.core.plugin import (
    DEMANDS,
    AccountView,
    ContactVerdict,
    DeliveryError,
    DeliveryReceipt,
    Language,
    MessageChannel,
    MessageDraft,
    MessageKind,
    ObsoleteVerdict,
    OutgoingMessage,
    RenderedMessage,
)
from huikuan.core.policy import PluginFailure, PolicyHost, view_of
from huikuan.core.postal import address_lines
from huikuan.core.printing import WRITTEN, queued_deadline, render_letter, render_statement
from huikuan.core.turns import Turn, in_this_process

log = structlog.get_logger("huikuan.outbox")

# Without a lock given, one run at a time in this process.
_PROCESS_TURN = in_this_process()


# An e-mail address as a server or plugin may quote it in an error ("<a@b.example>").
_ADDRESS = re.compile(r"[^\s<>@'\"(),;:]+@[^\s<>@'\"(),;:]+")


def _logged(error: str, recipient: str | None) -> str:
    """A delivery error as it may be logged: without the recipient's address or number
    (a channel may quote them, as an SMTP server refusing a mailbox does)."""
    if recipient:
        error = re.sub(re.escape(recipient), "<recipient>", error, flags=re.IGNORECASE)
    return _ADDRESS.sub("<address>", error)


MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=5)


@dataclass
class DispatchSummary:
    counts: Counter[str] = field(default_factory=Counter)


class Dispatcher:
    """Sends what the cycle queued, through the channel plugins."""

    def __init__(self, ledger: Ledger, host: PolicyHost, *, max_attempts: int = MAX_ATTEMPTS,
                 first_retry: timedelta = FIRST_RETRY,
                 lock: Turn | None = None) -> None:
        self.ledger = ledger
        self.host = host
        self.max_attempts = max_attempts
        self.first_retry = first_retry
        self.lock = lock or _PROCESS_TURN

    def accounts_with_messages(self) -> list[UUID]:
        """Accounts that have ever had a message queued, in the order first queued."""
        seen: dict[UUID, None] = {}
        last = 0
        while True:
            page = self.ledger.recorder.select_notifications(
                start=last, limit=1000, topics=[Account.MessageQueued.TOPIC],
                inclusive_of_start=False,
            )
            if not page:
                return list(seen)
            for row in page:
                seen.setdefault(UUID(str(row.originator_id)), None)
            last = page[-1].id

    def due(self, now: datetime) -> list[tuple[str, str]]:
        """(customer id, message id) of every message that may be tried at ``now``."""
        due = []
        for aggregate_id in self.accounts_with_messages():
            try:
                account: Account = self.ledger.get(aggregate_id)
            except Tampered:
                continue  # refused until restored: send nothing on its behalf
            for message in account.messages.values():
                if message.status in ("pending", "held") and (
                    message.next_attempt_at is None or message.next_attempt_at <= now
                ):
                    due.append((account.customer_id, message.message_id))
        return due

    def run_once(self, now: datetime) -> DispatchSummary:
        """See :meth:`_run_once`; what it records, the dispatcher recorded (core.actor)."""
        with acting_as(DISPATCHER):
            return self._run_once(now)

    def _run_once(self, now: datetime) -> DispatchSummary:
        """Try every message that is due at ``now``, one at a time.

        One dispatcher at a time: ``lock`` (by default this process's) is held for the
        run; the adapters pass a lock shared by processes (a PostgreSQL advisory lock,
        a lock file beside a SQLite database). A run that finds it taken does nothing.
        """
        if now.tzinfo is None:
            raise ValueError("the dispatcher needs an aware time (with a UTC offset)")
        summary = DispatchSummary()
        with self.lock() as acquired:
            if not acquired:
                summary.counts["busy"] += 1
                return summary
            for customer_id, message_id in self.due(now):
                try:
                    outcome = self.dispatch(customer_id, message_id, now)
                except Exception as error:  # one bad message must not stop the outbox
                    log.error("message.dispatch_error", customer_id=customer_id,
                              message_id=message_id, error=type(error).__name__)
                    outcome = "error"
                summary.counts[outcome] += 1
        return summary

    def dispatch(self, customer_id: str, message_id: str, now: datetime) -> str:
        """Try to send one message; record what happened. Returns the outcome."""
        account = self.ledger.account(customer_id)
        message = account.messages[message_id]
        if message.status not in ("pending", "held"):
            return "skipped"
        view = view_of(account)
        verdict = self.obsolete(view, message_id)
        if verdict is not None and verdict.obsolete:
            self._record(customer_id, message_id, Account.MessageCancelled, cancelled_at=now,
                         reason=verdict.reason)
            return "cancelled"
        text = self.restate(account, view, message, now)
        outgoing = OutgoingMessage(
            message_id=message.message_id, customer_id=customer_id,
            kind=cast(MessageKind, message.kind), channel=cast(MessageChannel, message.channel),
            recipient=message.recipient, subject=text.subject, body=text.body,
            attempt=message.attempts + 1,
        )
        holds: list[ContactVerdict] = [
            verdict for verdict, _ in self.host.collect(
                "huikuan_contact_allowed", message=outgoing, account=view, now=now)
            if not verdict.allowed
        ]
        if holds:
            until = max((v.hold_until for v in holds if v.hold_until),
                        default=now + self.first_retry)
            reason = "; ".join(v.reason for v in holds if v.reason)
            self._record(customer_id, message_id, Account.MessageHeld,
                         held_at=now, until=until, reason=reason)
            return "held"
        if outgoing.kind == "statement":
            # A statement of account goes with its PDF, exactly as it was issued.
            outgoing = replace(outgoing, document=self._statement(account, message_id))
        elif outgoing.channel == "letter" or (outgoing.channel == "email"
                                              and outgoing.kind in WRITTEN):
            # The written demand as printed, with the text that goes: the letter channel
            # writes it, e-mail attaches it.
            outgoing = replace(outgoing, document=render_letter(
                self.host, account, replace(message, subject=text.subject, body=text.body),
                dated=today_in(account.timezone, now), sent=True,
                deadline=queued_deadline(self.ledger, customer_id, message_id)))
        try:
            if outgoing.recipient is None and outgoing.channel != "worklist":
                raise DeliveryError(f"no {outgoing.channel} address for this customer",
                                    temporary=False)
            found = self.host.first("huikuan_send_message", message=outgoing)
            if found is None:
                raise DeliveryError(f"no plugin delivers {outgoing.channel!r}", temporary=False)
            receipt: DeliveryReceipt = found[0]
        except (DeliveryError, PluginFailure) as error:
            cause = error.error if isinstance(error, PluginFailure) else error
            temporary = getattr(cause, "temporary", True)
            retry_at = (now + self.first_retry * 2 ** (outgoing.attempt - 1)
                        if temporary and outgoing.attempt < self.max_attempts else None)
            self._record(customer_id, message_id, Account.MessageFailed, failed_at=now,
                         attempt=outgoing.attempt, error=str(cause)[:500], retry_at=retry_at)
            log.warning("message.failed", customer_id=customer_id, message_id=message_id,
                        channel=outgoing.channel, attempt=outgoing.attempt,
                        retry=retry_at is not None,
                        error=_logged(str(cause), outgoing.recipient)[:200])
            return "failed" if retry_at is None else "retry"
        if not self._record(customer_id, message_id, Account.MessageSent, sent_at=now,
                            attempt=outgoing.attempt, receipt=receipt.reference,
                            subject=outgoing.subject, body=outgoing.body):
            return "skipped"
        log.info("message.sent", customer_id=customer_id, message_id=message_id,
                 channel=outgoing.channel, attempt=outgoing.attempt)
        return "sent"

    def restate(self, account: Account, view: AccountView, message: Message,
                now: datetime) -> RenderedMessage:
        """The text to send: a demand states what is owed when it is sent.

        The queued text was written when the cycle queued the demand; a payment, credit
        note, dispute, write-off, dunning stop or hand-off since then changes what may be
        demanded. The demand is written again, by the same template plugins, for the
        undisputed money still open on the invoices it is about that may be chased on
        the sending day (``AccountView.chaseable``: not under a stop, not with a party),
        as of that day; its deadline stands. When nothing changed (the same text for the
        day it was queued) it goes as queued. Tasks and messages about no invoices go as
        queued.
        """
        as_queued = RenderedMessage(subject=message.subject, body=message.body)
        if message.kind not in DEMANDS or not message.invoice_ids:
            return as_queued
        queued = self._queued(account, message.message_id)
        chosen = set(message.invoice_ids)
        invoices = tuple(i for i in view.chaseable(today_in(view.timezone, now))
                         if i.invoice_id in chosen)
        if queued is None or not invoices:
            # Nothing left: a plugin kept it (huikuan_message_obsolete), as queued.
            return as_queued
        draft = with_charges(account, MessageDraft(
            message_id=message.message_id, kind=cast(MessageKind, message.kind),
            channel=cast(MessageChannel, message.channel),
            language=cast(Language, queued.language),
            amount=sum((i.undisputed_open for i in invoices), Decimal(0)),
            currency=view.currency, invoices=invoices, deadline=queued.deadline,
            as_of=queued.decided_on,
        ))
        if render_message(self.host, draft, view)[0] == as_queued:
            return as_queued
        # Interest stated as accrued through the sending day, as the principal is.
        restated, _ = render_message(
            self.host, with_charges(account, replace(draft, as_of=today_in(view.timezone, now))),
            view)
        log.info("message.restated", customer_id=account.customer_id,
                 message_id=message.message_id, queued=str(queued.amount),
                 now_owed=str(draft.amount))
        return restated

    def _statement(self, account: Account, message_id: str) -> bytes:
        kept = account.statements[message_id.removeprefix("statement-")]
        return render_statement(self.host, statement_from(
            kept["figures"], language=account.language, company=company_of(self.host.settings),
            address=tuple(address_lines(account.address, account.language))))

    def _queued(self, account: Account, message_id: str) -> Account.MessageQueued | None:
        """The decision that queued a message (its language and deadline), newest first."""
        for event in self.ledger.events.get(account_id(account.customer_id), desc=True):
            if isinstance(event, Account.MessageQueued) and event.message_id == message_id:
                return event
        return None

    def obsolete(self, account: AccountView, message_id: str) -> ObsoleteVerdict | None:
        """Whether the plugins find a queued message no longer wanted (paid since,
        promised since…): a demand is never sent for money no longer owed."""
        message = next(m for m in account.messages if m.message_id == message_id)
        found = self.host.first("huikuan_message_obsolete", message=message, account=account)
        return found[0] if found else None

    def _record(self, customer_id: str, message_id: str, event_class: type[Account.Event],
                **fields: object) -> bool:
        def change(account: Account) -> bool:
            if account.messages[message_id].status not in ("pending", "held"):
                return False  # another dispatcher got there first
            account.record_delivery_outcome(event_class, message_id=message_id, **fields)
            return True

        return self.ledger.change(customer_id, "dispatch", change).recorded
